"""safe_files: the guards every script uses on user-named inputs and outputs."""
import os

import pytest

from safe_files import OWNER_MARK, check_output_file, claim_output_folder, new_folder, read_bytes, regular_file
from utils import UserError


def test_special_files_are_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / 'pipe')
    (tmp_path / 'file').write_bytes(b'ok')
    for path, kind in ((tmp_path / 'pipe', 'FIFO'), ('/dev/zero', 'character device'), (tmp_path, 'folder'),
                       (tmp_path / 'missing', 'does not exist')):
        with pytest.raises(UserError, match=kind):
            read_bytes(path, 'word list')
    assert read_bytes(tmp_path / 'file') == b'ok' and regular_file(tmp_path / 'file') == tmp_path / 'file'
    with pytest.raises(UserError, match='at most 1 are read'):
        read_bytes(tmp_path / 'file', limit=1)


def test_an_output_is_never_an_input_nor_a_foreign_file(tmp_path):
    model = tmp_path / 'm.pth'
    model.write_bytes(b'weights')
    os.link(model, tmp_path / 'hard.pth')
    (tmp_path / 'soft.pth').symlink_to(model)
    for output in (model, tmp_path / 'hard.pth', tmp_path / 'soft.pth', tmp_path / '.' / 'm.pth'):
        with pytest.raises(UserError, match='is the input'):
            check_output_file(output, inputs=[None, model])
    (tmp_path / 'notes.txt').write_text('mine')
    with pytest.raises(UserError, match='is not a log kocrnn wrote'):
        check_output_file(tmp_path / 'notes.txt', kind='log', is_own=lambda p: p.read_text().startswith('image'))
    assert check_output_file(tmp_path / 'new.txt', inputs=[model], is_own=lambda p: False) == tmp_path / 'new.txt'


def test_an_output_folder_is_new_empty_or_this_commands_own(tmp_path):
    out = claim_output_folder(tmp_path / 'out', 'synth_aihub.py')
    (out / 'a.jpg').write_bytes(b'x')
    assert claim_output_folder(out, 'synth_aihub.py') == out  # an earlier run's output
    with pytest.raises(UserError, match='did not write'):
        claim_output_folder(out, 'aihub_dataset.py')
    (out / 'mine.jpg').write_bytes(b'user')
    with pytest.raises(UserError, match='mine.jpg'):
        claim_output_folder(out, 'synth_aihub.py', is_own=lambda p: p.name == 'a.jpg')
    user = tmp_path / 'user'
    user.mkdir()
    (user / 'photo.jpg').write_bytes(b'user')
    with pytest.raises(UserError, match='photo.jpg'):
        claim_output_folder(user, 'synth_aihub.py')
    assert not (user / OWNER_MARK).exists() and (user / 'photo.jpg').read_bytes() == b'user'


def test_new_folders_never_collide(tmp_path):
    made = [new_folder(tmp_path / 'runs' / 'r') for _ in range(3)]
    assert [p.name for p in made] == ['r', 'r-2', 'r-3']
