# startup_probe is linked statically so the address space it lends its child
# before execve (which counts in the child's ru_maxrss) is as small as possible.
CFLAGS_startup_probe := -static
