# ldpreload_hook: hook.c is a shared library (no main), caller.c a program.
# gorun_kit.lookpath.experiments builds the same two into its cache.
CUSTOM += ldpreload_hook
EXTRA_TARGETS += $(BUILD)/ldpreload_hook/hook.so $(BUILD)/ldpreload_hook/caller

$(BUILD)/ldpreload_hook/hook.so: ldpreload_hook/hook.c
	mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared -fPIC -o $@ $< -ldl

$(BUILD)/ldpreload_hook/caller: ldpreload_hook/caller.c
	mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $<
