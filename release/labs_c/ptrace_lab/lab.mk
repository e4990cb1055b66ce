# ptrace_lab holds several programs, so it is built here rather than by the
# one-program-per-directory rule: the solution tracer and the seed's reads.
# The student copy of tracer.c is generated (gorun-kit course release DIR)
# and committed once, as release/labs_c/ptrace_lab/tracer.c.
CUSTOM        += ptrace_lab
EXTRA_TARGETS += $(BUILD)/ptrace_lab/tracer $(BUILD)/ptrace_lab/seed_regs

$(BUILD)/ptrace_lab:
	mkdir -p $@
$(BUILD)/ptrace_lab/tracer: ptrace_lab/tracer.c | $(BUILD)/ptrace_lab
	$(CC) $(CFLAGS) -o $@ $<
$(BUILD)/ptrace_lab/seed_regs: ptrace_lab/seed_regs.c | $(BUILD)/ptrace_lab
	$(CC) $(CFLAGS) -o $@ $<
