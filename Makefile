# Thin wrapper around Meson. Every target first makes sure the Debian packages are there.
BUILD ?= build
MESON ?= meson

.PHONY: all deps test unit demo bench install clean

all: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps:
	@contrib/install-deps.sh

$(BUILD)/build.ninja: | deps
	$(MESON) setup $(BUILD)

test: all
	$(MESON) test -C $(BUILD) --print-errorlogs --no-suite bench

unit: all
	$(MESON) test -C $(BUILD) --print-errorlogs --suite unit

bench: all
	$(MESON) test -C $(BUILD) --verbose --suite bench --timeout-multiplier 0

demo: all
	contrib/demo.sh $(BUILD)

install: all
	$(MESON) install -C $(BUILD)

clean:
	rm -rf $(BUILD)
