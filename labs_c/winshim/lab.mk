# winshim is a Windows DLL (for Wine), cross-built with mingw-w64; it is not a
# Linux program, so the generic rule must not build it. gorun_kit builds the
# same source into its cache (gorun_kit.lookpath.wine); this target is for
# `make -C labs_c` users and is skipped when mingw-w64 is absent.
CUSTOM += winshim
MINGW_CC ?= x86_64-w64-mingw32-gcc
ifneq ($(shell command -v $(MINGW_CC) 2>/dev/null),)
EXTRA_TARGETS += $(BUILD)/winshim/bcryptprimitives.dll
endif

$(BUILD)/winshim/bcryptprimitives.dll: winshim/bcryptprimitives.c
	mkdir -p $(dir $@)
	$(MINGW_CC) -O2 -Wall -shared -o $@ $< -ladvapi32
