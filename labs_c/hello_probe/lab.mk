# hello_probe is built twice: the default (dynamically linked against libc)
# and a fully static copy, so chapter 5 can compare the two start-ups.
EXTRA_TARGETS += $(BUILD)/hello_probe_static

$(BUILD)/hello_probe_static: hello_probe/hello_probe.c | $(BUILD)
	$(CC) $(CFLAGS) -static -o $@ $<
