"""npm_packages.py and scripts/install_tessdata_best.py without the network: a stand-in `npm` that packs a
tarball made here, holding Debian's own Tesseract models gzipped as @tesseract.js-data lays them out."""
import gzip
import importlib.util
import io
import shutil
import tarfile
from pathlib import Path

import pytest

from npm_packages import NpmError, npm_failure, npm_pack
from safe_files import FILES_MARK
from utils import UserError

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location('install_tessdata_best', REPO / 'scripts' / 'install_tessdata_best.py')
tessdata_best = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tessdata_best)

DEBIAN_TESSDATA = Path('/usr/share/tesseract-ocr/5/tessdata')


def test_npm_failures_are_one_line_reasons():
    assert npm_failure('npm error code E404\nnpm error 404 Not Found') == 'not on npm (E404)'
    assert npm_failure('npm ERR! code ENOTFOUND\n') == 'network error (ENOTFOUND)'
    assert npm_failure('something odd') == 'npm pack failed (unknown)'


def package_tarball(path, members):
    """A package tarball at `path` holding {member name: bytes}."""
    with tarfile.open(path, 'w:gz') as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(f'package/{name}')
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def fake_npm(folder, tarballs):
    """An `npm` command that 'packs' spec S by copying tarballs[S] into --pack-destination (or fails E404)."""
    script = folder / 'npm'
    cases = ''.join(f'  "{spec}") src="{tarball}" ;;\n' for spec, tarball in tarballs.items())
    script.write_text('#!/usr/bin/env bash\n'
                      'spec=$2; dest=$5\n'
                      f'case "$spec" in\n{cases}'
                      '  *) echo "npm error code E404" >&2; exit 1 ;;\n'
                      'esac\n'
                      'cp "$src" "$dest/$(basename "$src")"\n'
                      'echo "[{\\"filename\\": \\"$(basename "$src")\\"}]"\n', encoding='utf-8')
    script.chmod(0o755)
    return str(script)


@pytest.fixture
def packages(tmp_path):
    """A stand-in npm serving kor and eng packages whose 'best' models are Debian's (any Tesseract model)."""
    if not all((DEBIAN_TESSDATA / f'{lang}.traineddata').is_file() for lang in ('kor', 'eng')):
        pytest.skip('needs Debian tesseract-ocr-kor (and its eng model)')
    tarballs = {}
    for lang in ('kor', 'eng'):
        model = gzip.compress((DEBIAN_TESSDATA / f'{lang}.traineddata').read_bytes())
        tarballs[f'@tesseract.js-data/{lang}@1.0.0'] = package_tarball(
            tmp_path / f'{lang}-1.0.0.tgz', {f'4.0.0_best_int/{lang}.traineddata.gz': model})
    (tmp_path / 'npm-bin').mkdir()
    return fake_npm(tmp_path / 'npm-bin', tarballs)


def test_npm_pack_names_the_tarball_or_the_reason(tmp_path, packages):
    work = tmp_path / 'work'
    work.mkdir()
    assert npm_pack('@tesseract.js-data/kor@1.0.0', work, packages) == work / 'kor-1.0.0.tgz'
    with pytest.raises(NpmError, match=r'^not on npm \(E404\)$'):
        npm_pack('@tesseract.js-data/xyz@1.0.0', work, packages)


@pytest.mark.skipif(not shutil.which('tesseract'), reason='needs tesseract-ocr')
def test_tessdata_best_installs_once_and_keeps_what_it_did_not_write(tmp_path, packages, capfd):
    output = tmp_path / 'tessdata_best'
    tessdata_best.main(['--output', str(output), '--npm', packages])
    for lang in ('kor', 'eng'):
        assert (output / f'{lang}.traineddata').read_bytes() == (DEBIAN_TESSDATA / f'{lang}.traineddata').read_bytes()
    assert (output / FILES_MARK).is_file()
    assert tessdata_best.listed_languages(output) >= {'kor', 'eng'}
    capfd.readouterr()
    tessdata_best.main(['--output', str(output), '--npm', packages])  # present: nothing fetched
    logged = capfd.readouterr().err
    assert 'kor.traineddata present' in logged and 'installed' not in logged

    mine = tmp_path / 'mine'
    mine.mkdir()
    (mine / 'kor.traineddata').write_bytes(b'my own model')
    with pytest.raises(UserError, match='kor.traineddata exists and is not a tessdata model kocrnn wrote'):
        tessdata_best.main(['--output', str(mine), '--npm', packages])
    assert (mine / 'kor.traineddata').read_bytes() == b'my own model'


def test_a_package_without_the_model_is_one_line(tmp_path):
    tarball = package_tarball(tmp_path / 'kor.tgz', {'4.0.0/kor.traineddata.gz': gzip.compress(b'fast')})
    with pytest.raises(UserError, match='has no package/4.0.0_best_int/kor.traineddata.gz'):
        tessdata_best.model_bytes(tarball, 'kor')
    broken = package_tarball(tmp_path / 'broken.tgz', {'4.0.0_best_int/kor.traineddata.gz': b'not gzip'})
    with pytest.raises(UserError, match='unreadable package'):
        tessdata_best.model_bytes(broken, 'kor')
    (tmp_path / 'junk.tgz').write_bytes(b'junk')
    with pytest.raises(UserError, match='unreadable package'):
        tessdata_best.model_bytes(tmp_path / 'junk.tgz', 'kor')
