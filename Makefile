# kocrnn: `make demo` recognises demo_image/ with the shipped model; `make test` runs the test suite.
# Both set themselves up on a fresh machine: a venv with pinned packages, and (as root) Debian's Korean fonts.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Debian packages: Korean fonts, Latin fonts (English text) and hunspell-ko for synthetic data, chromium
# for the HTML report test.
LATIN_FONTS := fonts-dejavu-core fonts-dejavu-extra fonts-liberation2 fonts-roboto-unhinted fonts-open-sans fonts-urw-base35 fonts-texgyre fonts-lato fonts-cantarell fonts-league-spartan fonts-firacode
SYSTEM_PACKAGES := fonts-nanum fonts-nanum-extra fonts-unfonts-core fonts-unfonts-extra fonts-baekmuk fonts-alee fonts-woowa-bm $(LATIN_FONTS) hunspell-ko fontconfig chromium
# For making training data and measuring it: photographs to print text on (Debian's wallpapers), and
# Tesseract, the peer bench/bench_accuracy.py compares with.
DATA_PACKAGES := plasma-workspace-wallpapers gnome-backgrounds tesseract-ocr tesseract-ocr-kor

.PHONY: demo test setup fonts npm-fonts data-packages tessdata-best quickstart bench clean

demo: $(VENV)/.installed
	$(PY) demo.py --image_folder demo_image/ --label_test demo_image/labels.txt

test: $(VENV)/.installed-dev fonts
	$(PY) -m pytest -q tests

setup: $(VENV)/.installed-dev fonts npm-fonts data-packages tessdata-best

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
	@if fc-list :lang=ko 2>/dev/null | grep -q . && fc-list | grep -q LiberationSans && [ -f /usr/share/hunspell/ko.dic ] \
			&& command -v chromium >/dev/null; then \
		echo "Korean and Latin fonts and chromium present"; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	else \
		echo "missing system packages: sudo apt-get install -y $(SYSTEM_PACKAGES)"; exit 1; \
	fi

# More Korean display and handwriting faces for synthetic data: @fontsource packages from npm, their woff2
# subsets merged into one font per weight (scripts/install_npm_fonts.py). Not part of test or demo.
npm-fonts: $(VENV)/.installed-dev fonts
	@if [ "$$(id -u)" = 0 ]; then \
		command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }; \
		$(PY) scripts/install_npm_fonts.py; \
	else \
		echo "optional, Korean faces from npm for synthetic data: sudo $(PY) scripts/install_npm_fonts.py" \
			"(or without sudo, into ~/.local/share/fonts/kocrnn-npm)"; \
	fi

# Tesseract's stronger models (tessdata_best kor+eng, from npm's @tesseract.js-data) for the bench's second
# Tesseract column (scripts/install_tessdata_best.py). Not part of test or demo.
tessdata-best: $(VENV)/.installed data-packages
	@if [ "$$(id -u)" = 0 ]; then \
		command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }; \
		$(PY) scripts/install_tessdata_best.py; \
	else \
		echo "optional, Tesseract's best models for the bench: sudo $(PY) scripts/install_tessdata_best.py" \
			"(or without sudo, into ~/.local/share/tessdata_best)"; \
	fi

data-packages:
	@if [ -d /usr/share/wallpapers ] && command -v tesseract >/dev/null; then \
		echo "wallpapers and tesseract present"; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DATA_PACKAGES) >/dev/null; \
	else \
		echo "optional, for photo backgrounds and the Tesseract column: sudo apt-get install -y $(DATA_PACKAGES)"; \
	fi

bench: $(VENV)/.installed
	$(PY) bench/bench_speed.py

clean:
	rm -rf $(VENV) result test_log.txt
