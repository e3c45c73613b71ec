#!/usr/bin/env bash
# gpthome-guard wake wrapper: wake the agent for one session, then let the guard check,
# repair and archive what it left. Run by cron or systemd as root:
#
#   wake.sh morning|evening|visit ["visitor message"]
#
# Settings, from the environment [default]:
#   GPT_HOME             the agent's home [/gpt-home]
#   GPT_AGENT_CMD        the agent CLI: a command name or path, without arguments [gpt]
#   GPT_MAX_TURNS        --max-turns for the agent [30]
#   GPT_TIMEOUT          wall-clock limit of the agent in seconds; then TERM, KILL 30 s later [1800]
#   GPT_AGENT_USER       run the agent as this user (setpriv), so the OS keeps it out of
#                        runner/, logs/ and .env; unset = as the caller (a warning as root) []
#   GPT_AGENT_HOME       HOME of the agent user [its home in /etc/passwd]
#   GPT_AGENT_ENV        names of variables handed to the agent user, e.g. "ANTHROPIC_API_KEY";
#                        it gets a clean environment otherwise (HOME, PATH, USER, LOGNAME, LANG) []
#   GPT_PERMISSION_MODE  --permission-mode for the agent; empty = not passed [acceptEdits]
#   GPT_MODEL            --model for the agent; empty = the CLI's default []
#   GUARD                the guard command [guard]
#
# Exit status: that of `guard post-session` (0 all good or repaired, 1 files quarantined or
# findings left, 3 could not archive, 4 a guard bug, 5 deletions held back or a security
# incident), or
#   64   usage: bad arguments or settings (nothing was run)
#   75   another session is running (the lock is held); nothing was run, try again later
#   127  guard not found
#   that of `guard pre-session` when it fails (the agent is not woken), and 3 when no new
#   session log can be created in logs/
#
# File names, prompts and visitor messages are data: they travel as single arguments, never
# as shell code (no eval, no sh -c, no xargs; ../shared/reference/security.md, section 3).
set -euo pipefail

readonly PROG=wake.sh
# the agent's directories: keep in step with gpthome_guard/access.py WRITABLE (a test checks)
readonly WRITABLE=(thoughts dreams landing-page about sandbox projects)

say() { printf '%s: %s\n' "$PROG" "$1" >&2; }
die() {
	say "$1"
	exit "$2"
}

usage="usage: $PROG morning|evening|visit [\"visitor message\"]"
[[ $# -ge 1 && $# -le 2 ]] || die "$usage" 64
session_type=$1
case $session_type in
morning | evening | visit) ;;
*) die "$usage" 64 ;;
esac

GPT_HOME=${GPT_HOME:-/gpt-home}
GPT_AGENT_CMD=${GPT_AGENT_CMD:-gpt}
GPT_MAX_TURNS=${GPT_MAX_TURNS:-30}
GPT_TIMEOUT=${GPT_TIMEOUT:-1800}
GPT_AGENT_USER=${GPT_AGENT_USER:-}
GPT_AGENT_ENV=${GPT_AGENT_ENV:-}
GPT_PERMISSION_MODE=${GPT_PERMISSION_MODE-acceptEdits}
GPT_MODEL=${GPT_MODEL:-}
GUARD=${GUARD:-guard}

[[ $GPT_MAX_TURNS =~ ^[1-9][0-9]{0,5}$ ]] || die "GPT_MAX_TURNS must be a number (turns), not '$GPT_MAX_TURNS'" 64
[[ $GPT_TIMEOUT =~ ^[1-9][0-9]{0,6}$ ]] || die "GPT_TIMEOUT must be a number (seconds), not '$GPT_TIMEOUT'" 64
[[ -d $GPT_HOME ]] || die "$GPT_HOME is not a directory; set GPT_HOME, or create it with: guard init $GPT_HOME" 64
GPT_HOME=$(cd -- "$GPT_HOME" && pwd -P)
guard_bin=$(type -P -- "$GUARD") || die "guard not found (GUARD=$GUARD, PATH=$PATH); install gpthome-guard or set GUARD to its path" 127

# Run as another user: resolved before anything runs, so a bad setting runs nothing.
as_user=()
if [[ -n $GPT_AGENT_USER ]]; then
	[[ $GPT_AGENT_USER =~ ^[A-Za-z_][A-Za-z0-9_.-]*$ ]] || die "GPT_AGENT_USER '$GPT_AGENT_USER' is not a user name" 64
	((EUID == 0)) || die "GPT_AGENT_USER needs the wrapper to run as root; run it as root or unset GPT_AGENT_USER" 64
	uid=$(id -u "$GPT_AGENT_USER" 2>/dev/null) || die "no user '$GPT_AGENT_USER'; create it (useradd --system $GPT_AGENT_USER) or fix GPT_AGENT_USER" 64
	gid=$(id -g "$GPT_AGENT_USER")
	setpriv_bin=$(type -P setpriv) || die "setpriv not found; install util-linux" 64
	agent_home=${GPT_AGENT_HOME:-$(getent passwd "$GPT_AGENT_USER" | cut -d: -f6)}
	clean_env=("HOME=${agent_home:-/}" "PATH=$PATH" "USER=$GPT_AGENT_USER"
		"LOGNAME=$GPT_AGENT_USER" "LANG=${LANG:-C.UTF-8}")
	read -r -a names <<<"$GPT_AGENT_ENV" # split on blanks, no globbing
	for name in "${names[@]}"; do
		[[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "GPT_AGENT_ENV: '$name' is not a variable name" 64
		if [[ -v $name ]]; then clean_env+=("$name=${!name}"); fi
	done
	as_user=(env -i "${clean_env[@]}" "$setpriv_bin" "--reuid=$uid" "--regid=$gid" --init-groups --)
fi

# One session at a time. The lock lives in logs/, which the agent cannot write when it runs
# as its own user; the descriptor is closed for the agent, so nothing it leaves behind holds it.
logs=$GPT_HOME/logs
if [[ -L $logs ]]; then die "$logs is a link; make it a directory owned by root (mode 700)" 64; fi
[[ -d $logs ]] || mkdir -m 700 -- "$logs"
exec 9>>"$logs/.wake.lock"
flock -n 9 || die "another session is running ($logs/.wake.lock is locked); the $session_type session was not started" 75
if [[ -z $GPT_AGENT_USER ]] && ((EUID == 0)); then
	say "warning: the agent runs as root; set GPT_AGENT_USER so the OS keeps it out of runner/, logs/ and .env"
fi

cd -- "$GPT_HOME"
pre_status=0
"$guard_bin" pre-session --home "$GPT_HOME" --type "$session_type" || pre_status=$?
((pre_status == 0)) || die "guard pre-session failed (exit $pre_status); the agent was not woken" "$pre_status"

prompt_args=(prompt --home "$GPT_HOME" --type "$session_type")
if [[ $# -eq 2 ]]; then prompt_args+=("--visitor-message=$2"); fi
if ! prompt=$("$guard_bin" "${prompt_args[@]}"); then
	say "guard prompt failed; the agent gets a short prompt"
	prompt="It is $(date '+%A %-d %B %Y, %H:%M'): your $session_type session. Read GPT.md, then write your journal entry."
fi
if ! system=$("$guard_bin" prompt --system --home "$GPT_HOME"); then
	system="You live in $GPT_HOME. Read GPT.md there first; write only in ${WRITABLE[*]}."
fi

# the log: a new file, never one that exists (two wakes in one second wait a second)
created=0
for _ in 1 2 3; do
	log=$logs/session-$(date -u +%Y%m%d-%H%M%S).log
	if (set -o noclobber && umask 077 && : >"$log") 2>/dev/null; then
		created=1
		break
	fi
	sleep 1
done
((created)) || die "cannot create a new log in $logs; check that it is a writable directory" 3
{
	printf '=== Session started: %s ===\n' "$(LC_ALL=C date -u)"
	printf 'Type: %s\n' "$session_type"
} >>"$log"

args=(-p "$prompt" --output-format json --max-turns "$GPT_MAX_TURNS" --append-system-prompt "$system")
if [[ -n $GPT_PERMISSION_MODE ]]; then args+=(--permission-mode "$GPT_PERMISSION_MODE"); fi
if [[ -n $GPT_MODEL ]]; then args+=(--model "$GPT_MODEL"); fi
for dir in "${WRITABLE[@]}" visitors; do args+=(--add-dir "$GPT_HOME/$dir"); done

agent_status=0
if agent_bin=$(type -P -- "$GPT_AGENT_CMD"); then
	# timeout puts itself and the agent in a process group of their own (its pid)
	timeout --kill-after=30 "$GPT_TIMEOUT" "${as_user[@]}" "$agent_bin" "${args[@]}" \
		</dev/null >>"$log" 2>&1 9>&- &
	agent_pid=$!
	wait "$agent_pid" || agent_status=$?
	# Whatever the agent left running would race the guard (swap a file for a link between
	# check and use): stop its process group, and every process of its user when it has one.
	kill -KILL -- "-$agent_pid" 2>/dev/null || true
	if [[ -n ${uid:-} ]]; then
		pkill -KILL -U "$uid" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			pgrep -U "$uid" >/dev/null 2>&1 || break
			sleep 0.2
		done
	fi
	# the end marker must start a line of its own
	if [[ -s $log && -n $(tail -c 1 -- "$log") ]]; then printf '\n' >>"$log"; fi
	if ((agent_status == 124 || agent_status == 137)); then
		# no end marker: that is how the log tells the guard the session was killed
		printf '%s: the agent was stopped by the timeout after %s s\n' "$PROG" "$GPT_TIMEOUT" >>"$log"
	elif ((agent_status != 0)); then
		printf '%s: the agent exited with status %s\n' "$PROG" "$agent_status" >>"$log"
	fi
else
	agent_status=127
	printf '%s: %s: command not found\n' "$PROG" "$GPT_AGENT_CMD" >>"$log"
fi
if ((agent_status != 124 && agent_status != 137)); then
	printf '=== Session ended: %s ===\n' "$(LC_ALL=C date -u)" >>"$log"
fi

guard_status=0
"$guard_bin" post-session --home "$GPT_HOME" --log "$log" --type "$session_type" || guard_status=$?
say "$session_type session: agent exit $agent_status, guard exit $guard_status, log $log"
exit "$guard_status"
