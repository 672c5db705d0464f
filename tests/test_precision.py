"""--amp auto|on|off: bf16 autocast only where the hardware runs bf16, and it keeps the predictions."""
import argparse
from pathlib import Path

import pytest
import torch

import demo
import precision

REPO = Path(__file__).resolve().parents[1]


def parse(argv):
    parser = argparse.ArgumentParser()
    precision.add_amp_arguments(parser)
    return parser.parse_args(argv).amp


def test_amp_flag_forms():
    assert parse([]) == 'auto'
    assert parse(['--amp']) == 'on'  # the bare flag of earlier releases still forces autocast
    assert parse(['--amp', 'off']) == 'off'
    with pytest.raises(SystemExit):
        parse(['--amp', 'maybe'])


@pytest.mark.parametrize('avx512_bf16, amx, expected', [(False, False, False), (True, False, True), (False, True, True)])
def test_auto_follows_the_cpu(monkeypatch, avx512_bf16, amx, expected):
    monkeypatch.setattr(torch.cpu, '_is_avx512_bf16_supported', lambda: avx512_bf16, raising=False)
    monkeypatch.setattr(torch.cpu, '_is_amx_tile_supported', lambda: amx, raising=False)
    cpu = torch.device('cpu')
    auto = precision.resolve_precision('auto', cpu)
    assert auto.enabled is expected and auto.dtype == torch.bfloat16 and not auto.needs_grad_scaler
    assert precision.resolve_precision('on', cpu).enabled is True
    assert precision.resolve_precision('off', cpu).enabled is False
    assert str(auto).startswith('bf16' if expected else 'fp32')


def read_predictions(log):
    return [line.split('\t')[2].strip() for line in log.read_text(encoding='utf-8').splitlines()[1:-1]]


def test_bf16_autocast_keeps_the_shipped_models_predictions(tmp_path):
    logs = {}
    for amp in ('off', 'on'):
        logs[amp] = tmp_path / f'{amp}.txt'
        demo.main(['--image_folder', str(REPO / 'demo_image'), '--label_test', str(REPO / 'demo_image' / 'labels.txt'),
                   '--log_filename', str(logs[amp]), '--workers', '0', '--amp', amp, '--quiet'])
    fp32, bf16 = read_predictions(logs['off']), read_predictions(logs['on'])
    assert len(fp32) == 12
    assert sum(a == b for a, b in zip(fp32, bf16)) >= 11, (fp32, bf16)
