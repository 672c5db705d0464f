"""Synthetic Korean text images: the fonts Debian installs, real Korean words, signboard-like
degradations. Used by synth_aihub.py and the tests; nothing is downloaded."""
