"""Mixed precision for train.py, test.py and demo.py: --amp resolved for a device, and its autocast.

--amp auto (the default) turns bf16 autocast on only where bf16 runs in hardware: CUDA GPUs that have
it, and CPUs with AVX512-BF16 or AMX. On other CPUs oneDNN emulates bf16 and it is slower, not faster
(measured on a 2-core AVX2 EPYC: None-VGG-BiLSTM-CTC training 32 -> 1.9 images/s, the shipped model's
inference 96 -> 19 images/s), so auto stays in fp32 there; --amp (or --amp on) forces it.
"""
from dataclasses import dataclass
from pathlib import Path

import torch

AMP_CHOICES = ('auto', 'on', 'off')


def cpu_has_bf16():
    checks = (getattr(torch.cpu, '_is_avx512_bf16_supported', None), getattr(torch.cpu, '_is_amx_tile_supported', None))
    return any(check() for check in checks if check is not None)


def cpu_flags():
    """The CPU's vector and matrix extensions that decide speed figures, for benches to print."""
    try:
        flags = next(line for line in Path('/proc/cpuinfo').read_text().splitlines() if line.startswith('flags'))
    except (OSError, StopIteration):
        return 'unknown'
    wanted = ('avx2', 'avx512f', 'avx512_bf16', 'avx512_vnni', 'amx_bf16')
    return ', '.join(f'{flag}={"yes" if f" {flag}" in flags else "no"}' for flag in wanted)


def channels_last_pays(device, feature_extraction):
    """Whether training runs faster with the feature extractor in channels-last memory (Model.use_channels_last).
    Measured (bench/bench_speed.py --profile, CPU time per step) on a 2-core AVX512-BF16 EPYC: VGG 12 %
    faster in bf16 and 9 % in fp32; ResNet (the 512-channel 3x3 convolutions dominate) 2-7 % slower. CPUs
    without native bf16 (AVX2 only) were not measured, so they keep the layout they had."""
    return device.type == 'cpu' and feature_extraction == 'VGG' and cpu_has_bf16()


def native_bf16(device):
    """True where bf16 matrix work runs in hardware on this device."""
    if device.type == 'cuda':
        return torch.cuda.is_bf16_supported()
    return device.type == 'cpu' and cpu_has_bf16()


def add_amp_arguments(parser, dtype_choice=False, default='auto'):
    parser.add_argument('--amp', nargs='?', const='on', default=default, choices=AMP_CHOICES,
                        help=f'mixed precision (autocast): auto = on where bf16 runs in hardware '
                             f'(bf16 GPUs, AVX512-BF16/AMX CPUs), else fp32; a bare --amp = on; off = fp32 '
                             f'(default: {default})')
    if dtype_choice:
        parser.add_argument('--amp_dtype', choices=('auto', 'bf16', 'fp16'), default='auto',
                            help='autocast dtype: auto = bf16 on CPU and on GPUs that have it, else fp16 '
                                 '(with a grad scaler)')


def amp_dtype(device, choice='auto'):
    """The autocast dtype of --amp: fp16 needs a grad scaler, bf16 does not."""
    if choice == 'fp16':
        return torch.float16
    if choice == 'bf16' or device.type != 'cuda' or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


@dataclass(frozen=True)
class Precision:
    """--amp resolved for one device: autocast or not, in which dtype."""
    enabled: bool
    dtype: torch.dtype
    device_type: str
    native_bf16: bool

    @property
    def needs_grad_scaler(self):
        return self.enabled and self.dtype == torch.float16

    def autocast(self):
        return torch.autocast(self.device_type, dtype=self.dtype, enabled=self.enabled)

    def __str__(self):
        """What a run uses and why, for its log."""
        if self.enabled:
            return f'{"bf16" if self.dtype == torch.bfloat16 else "fp16"} autocast on {self.device_type}'
        if self.native_bf16:
            return 'fp32 (--amp off)'
        return f'fp32 (no native bf16 on this {self.device_type}; --amp on forces autocast)'


def resolve_precision(choice, device, dtype_choice='auto'):
    """--amp's value (auto/on/off) and --amp_dtype's, for a device."""
    native = native_bf16(device)
    enabled = native if choice == 'auto' else choice == 'on'
    return Precision(enabled, amp_dtype(device, dtype_choice), device.type, native)


FP32 = Precision(False, torch.bfloat16, 'cpu', False)  # autocast off (the device type does not matter then)
