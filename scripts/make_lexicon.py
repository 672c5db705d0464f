"""Write the decoder's shipped word list, pretrained_models/lexicon.txt.gz (`--lexicon default`).

    python3 scripts/make_lexicon.py [OUTPUT]

Its words are synth.words.lexicon_words(): hunspell-ko (apt-get install hunspell-ko; MPL 1.1 / GPL 3 /
LGPL 3) and wordfreq's Korean and English lists (CC BY-SA 4.0). Shipping the list, not building it on
each run, keeps a decoding's text the same on machines with other package versions (or none).
"""
import argparse
import gzip
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from decoding import DEFAULT_LEXICON  # noqa: E402
from synth.words import hunspell_words, lexicon_words  # noqa: E402
from utils import UserError, atomic_write_bytes, run_main, setup_logging  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('output', nargs='?', default=str(DEFAULT_LEXICON))
    opt = parser.parse_args()
    log = setup_logging()
    if not hunspell_words():
        raise UserError('hunspell-ko is not installed (apt-get install hunspell-ko): the list would lack it')
    words = lexicon_words()
    text = ''.join(word + '\n' for word in words).encode('utf-8')
    atomic_write_bytes(gzip.compress(text, mtime=0), opt.output)  # mtime 0: the same bytes from the same words
    log.info('%d words written to %s (%.0f KB)', len(words), opt.output, Path(opt.output).stat().st_size / 1024)


if __name__ == '__main__':
    run_main(main)
