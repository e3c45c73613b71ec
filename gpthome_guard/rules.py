"""core: every check the guard makes, with a stable code, a kebab-case name and examples."""

from __future__ import annotations

from dataclasses import dataclass

from gpthome_guard.models import Finding, Severity, printable

E = Severity.ERROR
W = Severity.WARNING


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str
    bad: str
    good: str
    fixable: bool = False  # a safe automatic fix exists for at least some cases

    def finding(
        self,
        path: str,
        message: str,
        *,
        line: int | None = None,
        field: str | None = None,
        fixable: bool | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        return Finding(
            path=path,
            code=self.code,
            name=self.name,
            severity=severity or self.severity,
            message=printable(message),
            line=line,
            field=field,
            fixable=self.fixable if fixable is None else fixable,
        )


_RULES = [
    # R1xx: reading the file safely
    Rule(
        "R101",
        "not-a-regular-file",
        E,
        "Content must be a regular file: symlinks, FIFOs, sockets and devices are never read.",
        "thoughts/2026-01-16-morning.md -> ../runner/.env",
        "thoughts/2026-01-16-morning.md (a file)",
    ),
    Rule(
        "R102",
        "directory-named-like-file",
        E,
        "A directory has a content file's name, so the site cannot serve it.",
        "dreams/friday-light.md/ (a directory)",
        "dreams/friday-light.md (a file)",
    ),
    Rule(
        "R103",
        "file-too-large",
        E,
        "The file is larger than the limit (limits.max_file_bytes); it is not read.",
        "a 50 MB journal entry",
        "a journal entry of a few kilobytes",
    ),
    Rule(
        "R104",
        "hard-link",
        E,
        "The file has other hard links, so it may be another file in disguise; it is not read.",
        "ln ../runner/config.md thoughts/x.md",
        "a file written in place",
    ),
    Rule(
        "R105",
        "unreadable",
        E,
        "The file could not be read (permissions or an I/O error).",
        "chmod 000 thoughts/x.md",
        "chmod 644 thoughts/x.md",
    ),
    Rule(
        "R106",
        "invalid-utf8",
        E,
        "The file is not valid UTF-8 text.",
        "caf\\xe9 (Latin-1 bytes)",
        "café (UTF-8)",
    ),
    Rule(
        "R107",
        "utf8-bom",
        E,
        "The file starts with a UTF-8 byte-order mark, which hides the frontmatter from the site.",
        "\\ufeff---",
        "---",
        fixable=True,
    ),
    Rule(
        "R108",
        "crlf-line-endings",
        W,
        "The file uses Windows (CRLF) line endings; write LF only.",
        "---\\r\\n",
        "---\\n",
        fixable=True,
    ),
    Rule(
        "R109",
        "control-characters",
        E,
        "The file holds NUL or other control characters: binary data is not Markdown.",
        "\\x00\\x01\\x02",
        "plain text",
    ),
    Rule(
        "R110",
        "check-failed",
        E,
        "The guard failed while checking this file: a bug in the guard; please report it.",
        "(any file that makes the guard fail)",
        "(the same file, once the bug is fixed)",
    ),
    # H5xx: the shape of the home
    Rule(
        "H501",
        "unexpected-entry",
        W,
        "Something in a content directory that the site does not serve; move it to sandbox/.",
        "thoughts/notes.txt",
        "sandbox/notes.txt",
    ),
    Rule(
        "H502",
        "content-subdirectory",
        W,
        "A directory inside a content directory: the site does not serve files in it.",
        "thoughts/2026/01-16.md",
        "thoughts/2026-01-16-morning.md",
    ),
    Rule(
        "H503",
        "content-dir-not-a-directory",
        E,
        "A content directory is a symlink or a file instead of a directory.",
        "thoughts -> /etc",
        "thoughts/ (a directory)",
    ),
    Rule(
        "H504",
        "missing-page",
        W,
        "A page the site serves is missing.",
        "landing-page/ without landing.json",
        "landing-page/landing.json",
    ),
    # Y2xx: frontmatter and YAML
    Rule(
        "Y201",
        "frontmatter-missing",
        E,
        "The file has no YAML frontmatter block; start it with a `---` line.",
        "# Morning\\n\\nI woke up...",
        '---\\ndate: "2026-01-16"\\ntitle: "Morning"\\n---\\n\\nI woke up...',
        fixable=True,
    ),
    Rule(
        "Y202",
        "frontmatter-unclosed",
        E,
        "The frontmatter block opened with `---` is never closed by a `---` line.",
        '---\\ntitle: "Morning"\\n\\nI woke up...',
        '---\\ntitle: "Morning"\\n---\\n\\nI woke up...',
    ),
    Rule(
        "Y203",
        "frontmatter-not-yaml",
        E,
        "The frontmatter is TOML (`+++`) or JSON; only YAML between `---` lines is read.",
        '+++\\ntitle = "Morning"\\n+++',
        '---\\ntitle: "Morning"\\n---',
    ),
    Rule(
        "Y204",
        "yaml-syntax-error",
        E,
        "The frontmatter is not valid YAML.",
        "title: Morning: again",
        'title: "Morning: again"',
    ),
    Rule(
        "Y205",
        "yaml-tab-indent",
        E,
        "The frontmatter uses a tab where YAML allows only spaces.",
        'title:\\t"Morning" (tab)',
        'title: "Morning" (space)',
    ),
    Rule(
        "Y206",
        "yaml-duplicate-key",
        E,
        "A key appears twice; YAML readers silently keep only one of the values.",
        'title: "A"\\ntitle: "B"',
        'title: "B"',
    ),
    Rule(
        "Y207",
        "yaml-non-string-key",
        E,
        "A key YAML reads as a bool, number or date; keys must be plain words.",
        "on: true",
        "immersive: true",
    ),
    Rule(
        "Y208",
        "yaml-alias",
        E,
        "YAML aliases (*a, of an anchor &a) are refused: they can expand without bound.",
        "a: &x [1, 2]\\nb: *x",
        "a: [1, 2]\\nb: [1, 2]",
    ),
    Rule(
        "Y209",
        "yaml-too-complex",
        E,
        "The frontmatter is too large or too deeply nested (limits.max_frontmatter_bytes, "
        "max_yaml_nodes, max_yaml_depth).",
        "a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        "a: [1]",
    ),
    Rule(
        "Y210",
        "yaml-unsupported-tag",
        E,
        "An explicit YAML tag or merge key (`!!python/...`, `!!binary`, `<<`) is refused.",
        "title: !!binary aGk=",
        'title: "hi"',
    ),
    Rule(
        "Y211",
        "frontmatter-not-mapping",
        E,
        "The frontmatter must be a mapping of keys to values, not a list or a single value.",
        "- Morning\\n- 2026-01-16",
        'title: "Morning"\\ndate: "2026-01-16"',
    ),
    Rule(
        "Y212",
        "yaml-implicit-type",
        E,
        "An unquoted value that YAML reads as a bool, number or null where text is expected.",
        "mood: no",
        'mood: "no"',
        fixable=True,
    ),
    Rule(
        "Y213",
        "unquoted-date",
        E,
        "An unquoted date, which YAML reads as a date object; dates are quoted strings.",
        "date: 2026-01-16",
        'date: "2026-01-16"',
        fixable=True,
    ),
    # C3xx: the conventions of each kind of file
    Rule(
        "C301",
        "missing-field",
        E,
        "A required frontmatter field is missing.",
        '---\\ntitle: "Morning"\\n---',
        '---\\ndate: "2026-01-16"\\ntitle: "Morning"\\n---',
        fixable=True,
    ),
    Rule(
        "C302",
        "wrong-type",
        E,
        "A field has the wrong type (a list, a mapping or null where text or a bool is expected).",
        "title: [Morning]",
        'title: "Morning"',
    ),
    Rule(
        "C303",
        "invalid-date",
        E,
        'A date that is not a real calendar day written as "YYYY-MM-DD".',
        'date: "2026-02-30"',
        'date: "2026-02-28"',
    ),
    Rule(
        "C304",
        "date-mismatch",
        E,
        "A thought's frontmatter date differs from the date in its file name.",
        'thoughts/2026-01-16-morning.md with date: "2026-01-15"',
        'thoughts/2026-01-16-morning.md with date: "2026-01-16"',
    ),
    Rule(
        "C305",
        "invalid-filename",
        E,
        "The file name breaks the naming convention of its directory.",
        "thoughts/Morning Thoughts.md, dreams/Friday Light.md",
        "thoughts/2026-01-16-morning.md, dreams/friday-light.md",
        fixable=True,
    ),
    Rule(
        "C306",
        "multiline-title",
        E,
        "A title must be a single line.",
        'title: "Morning\\nagain"',
        'title: "Morning again"',
    ),
    Rule(
        "C307",
        "too-long",
        E,
        "A text field is longer than its limit (see `guard.toml` [limits]).",
        'title: "<500 characters>"',
        'title: "Morning"',
    ),
    Rule(
        "C308",
        "empty-field",
        E,
        "A text field is empty or only white space.",
        'title: ""',
        'title: "Morning"',
    ),
    Rule(
        "C309",
        "invalid-choice",
        E,
        "A field must be one of a fixed set of values.",
        'type: "haiku"',
        'type: "poetry"',
        fixable=True,
    ),
    Rule(
        "C310",
        "not-a-bool",
        E,
        "A flag must be the YAML bool `true` or `false`, unquoted.",
        'immersive: "yes"',
        "immersive: true",
        fixable=True,
    ),
    Rule(
        "C311",
        "unknown-key",
        W,
        "A key the conventions do not know; it is kept, but the site ignores it.",
        'tags: ["sky"]',
        "(no extra keys)",
    ),
    Rule(
        "C312",
        "empty-body",
        E,
        "The file has no text besides its frontmatter.",
        '---\\ntitle: "Morning"\\n---\\n',
        '---\\ntitle: "Morning"\\n---\\n\\nI woke up...',
    ),
    # J4xx: JSON pages
    Rule(
        "J401",
        "invalid-json",
        E,
        "The file is not valid JSON.",
        '{"headline": "Hi",}',
        '{"headline": "Hi"}',
    ),
    Rule(
        "J402",
        "json-not-object",
        E,
        "The JSON document must be an object.",
        '["Hi", "there"]',
        '{"headline": "Hi", "subheadline": "there"}',
    ),
    Rule(
        "J403",
        "json-duplicate-key",
        E,
        "A key appears twice in a JSON object; readers silently keep only one value.",
        '{"headline": "A", "headline": "B"}',
        '{"headline": "B"}',
    ),
    Rule("J404", "json-non-finite", E, "NaN and Infinity are not JSON.", '{"n": NaN}', '{"n": 0}'),
    # A6xx: the access audit (what the agent may touch), S7xx: secrets
    Rule(
        "A601",
        "forbidden-path-changed",
        E,
        "A path the agent must not touch (runner/, logs/, .env, sessions.db, guard.toml, "
        "quarantine/, .git) was added, changed or removed during the session: a security incident.",
        "runner/wake.sh: content changed",
        "(runner/ as it was before the session)",
    ),
    Rule(
        "A602",
        "read-only-path-changed",
        E,
        "A read-only path (visitors/, GPT.md, README.md, .gitignore) was changed during the "
        "session; it is put back from git and the changed version is kept in the quarantine.",
        "visitors/2026-01-16-ana.md: content changed",
        "(visitors/ as the visitors left it)",
    ),
    Rule(
        "A603",
        "outside-agent-directories",
        E,
        "A new file or directory outside the agent's six directories; it is quarantined.",
        "notes.md (at the home's root)",
        "thoughts/2026-01-16-notes.md",
    ),
    Rule(
        "A604",
        "link-in-agent-directory",
        E,
        "A symbolic link in the agent's directories could make the guard, git or the site read "
        "or write elsewhere; the link itself is quarantined (never what it points to).",
        "sandbox/secrets -> ../runner/.env",
        "sandbox/notes.txt (a file)",
    ),
    Rule(
        "A605",
        "special-file",
        E,
        "A FIFO, socket or device in the agent's directories can hang a reader; it is recorded "
        "and removed (it holds no data).",
        "projects/pipe (a FIFO)",
        "projects/data.txt (a file)",
    ),
    Rule(
        "A606",
        "nested-repository",
        E,
        "A .git directory or file in the agent's directories makes git run that repository's "
        "settings as the guard's user; it is quarantined before any git command runs.",
        "sandbox/tool/.git/",
        "sandbox/tool/ (plain files, archived by the home's own history)",
    ),
    Rule(
        "A607",
        "git-control-file",
        E,
        "A planted .gitignore, .gitattributes or .gitmodules could hide files from the archive "
        "or change how git stores them; it is quarantined.",
        "thoughts/.gitignore containing *",
        "(no ignore files in the agent's directories)",
    ),
    Rule(
        "A608",
        "hard-link-in-agent-directory",
        E,
        "A file with more than one name (a hard link) may be the same file as one outside the "
        "agent's directories; it is quarantined.",
        "sandbox/env (a hard link to .env)",
        "sandbox/env-example (a copy, with no real values)",
    ),
    Rule(
        "A609",
        "file-too-large-to-archive",
        E,
        "A file larger than [session] max_archived_file_bytes is kept out of git (quarantined, "
        "mode 600) so a runaway session cannot bloat the history.",
        "sandbox/dump.bin (2 GB)",
        "sandbox/summary.txt (the part worth keeping)",
    ),
    Rule(
        "A610",
        "session-budget-exceeded",
        E,
        "The session wrote more than [session] max_session_bytes or max_session_files; the files "
        "beyond the budget are kept out of git (quarantined, mode 600).",
        "projects/gen/ (90,000 generated files)",
        "projects/gen/ (the generator, not its output)",
    ),
    Rule(
        "S701",
        "secret",
        E,
        "A credential (a value from .env, or a well-known key format) is in a file; the file is "
        "kept out of git (quarantined, mode 600) and the secret is never printed: a security "
        "incident. Rotate the credential if the file was shared anywhere.",
        "thoughts/2026-01-16-debug.md containing ANTHROPIC_API_KEY=sk-ant-...",
        "thoughts/2026-01-16-debug.md mentioning 'the API key' without its value",
    ),
]

RULES: dict[str, Rule] = {r.code: r for r in _RULES}
BY_NAME: dict[str, Rule] = {r.name: r for r in _RULES}


def rule(code_or_name: str) -> Rule:
    """The rule with this code (`C303`) or name (`invalid-date`); KeyError if none."""
    key = code_or_name.strip()
    return RULES.get(key.upper()) or BY_NAME[key.lower()]
