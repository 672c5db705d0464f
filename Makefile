# kocrnn: `make demo` recognises demo_image/ with the shipped model; `make test` runs the test suite.
# Both set themselves up on a fresh machine: a venv with pinned packages, and (as root) Debian's Korean fonts.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Debian packages: Korean fonts and hunspell-ko for synthetic data, chromium for the HTML report test.
SYSTEM_PACKAGES := fonts-nanum fonts-nanum-extra fonts-unfonts-core fonts-unfonts-extra fonts-baekmuk fonts-alee fonts-woowa-bm hunspell-ko fontconfig chromium

.PHONY: demo test setup fonts quickstart bench clean

demo: $(VENV)/.installed
	$(PY) demo.py --image_folder demo_image/ --label_test demo_image/labels.txt

test: $(VENV)/.installed-dev fonts
	$(PY) -m pytest -q tests

setup: $(VENV)/.installed-dev fonts

# The whole chain on a small synthetic AI Hub set: generate, preprocess, LMDB, fine-tune, test, demo + report.
quickstart: $(VENV)/.installed fonts
	PYTHON=$(PY) bash scripts/quickstart.sh

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

# Korean fonts and the hunspell-ko word list for synthetic data (tests render their own images), and
# chromium, in which a test opens demo.py's HTML report.
fonts:
	@if fc-list :lang=ko 2>/dev/null | grep -q . && [ -f /usr/share/hunspell/ko.dic ] && command -v chromium >/dev/null; then \
		echo "Korean fonts and chromium present"; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	else \
		echo "missing system packages: sudo apt-get install -y $(SYSTEM_PACKAGES)"; exit 1; \
	fi

bench: $(VENV)/.installed
	$(PY) bench/bench_speed.py

clean:
	rm -rf $(VENV) result test_log.txt
