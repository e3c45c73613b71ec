print("experiments live here; the guard does not check them")
