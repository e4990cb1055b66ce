# labs_c/tests: small programs, one per .c file, that exercise the tracer's
# edge cases (tests/test_trace_edges.py builds the same files with build_c).
CUSTOM += tests
TRACE_TESTS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/*.c))
EXTRA_TARGETS += $(TRACE_TESTS)

$(BUILD)/tests/%: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -lpthread
