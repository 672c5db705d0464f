"""The optimiser and the learning-rate schedule of a training run: their options as one dataclass (saved
under the checkpoint's 'optimizer_options' key, so a resumed run keeps them), their flags, and the
learning rate at any iteration."""
import math
from dataclasses import asdict, dataclass, fields

import torch

from cli import non_negative_float, non_negative_int, positive_float
from utils import UserError


@dataclass
class OptimizerOptions:
    adam: bool = False         # Adam instead of dtrb's Adadelta
    lr: float = 1.0            # Adadelta's default
    beta1: float = 0.9         # Adam
    rho: float = 0.95          # Adadelta
    eps: float = 1e-8          # Adadelta
    weight_decay: float = 0.0
    grad_clip: float = 5.0
    scheduler: str = 'none'    # none | cosine
    warmup: int = 0            # linear warm-up iterations
    schedule_by: str = 'iterations'  # iterations | time: the cosine spans --num_iter or --time_limit

    @classmethod
    def from_args(cls, opt):
        return cls(**{f.name: getattr(opt, f.name) for f in fields(cls)})

    @classmethod
    def from_checkpoint(cls, checkpoint):
        """The options a checkpoint was trained with ('args' in checkpoints older than the key), or None."""
        saved = checkpoint.get('optimizer_options') or {
            f.name: checkpoint['args'][f.name] for f in fields(cls) if f.name in checkpoint.get('args', {})}
        return cls(**{k: v for k, v in saved.items() if k in {f.name for f in fields(cls)}}) if saved else None

    def to_dict(self):
        return asdict(self)

    def build(self, parameters):
        if self.adam:
            return torch.optim.Adam(parameters, lr=self.lr, betas=(self.beta1, 0.999), weight_decay=self.weight_decay)
        return torch.optim.Adadelta(parameters, lr=self.lr, rho=self.rho, eps=self.eps, weight_decay=self.weight_decay)


DEFAULT = OptimizerOptions()


def lr_warning(options):
    """A warning for a learning rate that suits the other optimiser, else None: Adadelta scales its own
    step and takes lr as a multiplier (dtrb's 1.0); at Adam's 1e-4..1e-3 it barely moves the weights."""
    if not options.adam and options.lr < 0.05:
        return (f'Adadelta (the default optimiser) with --lr {options.lr:g}: its lr is a multiplier (dtrb uses 1.0), '
                'so the weights will barely move; give --adam for Adam at this rate')
    return None


def add_optimizer_arguments(parser):
    group = parser.add_argument_group('optimisation (a resumed run keeps its own unless given again)')
    group.add_argument('--adam', action='store_true', help='Adam instead of Adadelta')
    group.add_argument('--lr', type=positive_float, default=DEFAULT.lr, help='learning rate (Adadelta default 1.0)')
    group.add_argument('--beta1', type=non_negative_float, default=DEFAULT.beta1, help='beta1 for Adam')
    group.add_argument('--rho', type=non_negative_float, default=DEFAULT.rho, help='decay rate rho for Adadelta')
    group.add_argument('--eps', type=positive_float, default=DEFAULT.eps, help='eps for Adadelta')
    group.add_argument('--weight_decay', type=non_negative_float, default=DEFAULT.weight_decay)
    group.add_argument('--grad_clip', type=positive_float, default=DEFAULT.grad_clip, help='gradient clipping value')
    group.add_argument('--scheduler', choices=('none', 'cosine'), default=DEFAULT.scheduler,
                       help='learning-rate schedule over --num_iter (cosine with --warmup)')
    group.add_argument('--warmup', type=non_negative_int, default=DEFAULT.warmup,
                       help='linear warm-up iterations for the schedule')
    group.add_argument('--schedule_by', choices=('iterations', 'time'), default=DEFAULT.schedule_by,
                       help='time: the cosine spans --time_limit instead of --num_iter (a fixed wall-clock budget)')


def resumed_options(opt, checkpoint, given):
    """The OptimizerOptions of a resumed run: its own, except flags given again on this command line; the
    optimiser's kind must stay, since its saved state belongs to it. Returns (options, names restored)."""
    saved = OptimizerOptions.from_checkpoint(checkpoint)
    options = OptimizerOptions.from_args(opt)
    if saved is None:
        return options, []
    if 'adam' in given and opt.adam != saved.adam:
        raise UserError(f'{opt.saved_model} was trained with {"Adam" if saved.adam else "Adadelta"}; '
                        'its optimizer state cannot continue with another optimizer (use --FT to start anew)')
    restored = [f.name for f in fields(OptimizerOptions) if f.name == 'adam' or f.name not in given]
    for name in restored:
        setattr(options, name, getattr(saved, name))
    return options, restored


def check_schedule(options, time_limit):
    if options.schedule_by == 'time' and not time_limit:
        raise UserError('--schedule_by time needs --time_limit (the minutes the schedule spans); a resumed '
                        'run gets a fresh cosine over the --time_limit it is given')


def lr_factor(iteration, progress, schedule, warmup):
    """Multiplier of the base learning rate at an iteration; progress runs 0 to 1 over the schedule."""
    if warmup and iteration < warmup:
        return (iteration + 1) / warmup
    if schedule == 'cosine':
        return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, max(0.0, progress))))
    return 1.0


def learning_rate(options, iteration, elapsed, num_iter, time_limit):
    """The learning rate at an iteration (and `elapsed` seconds), from those alone: a resumed run needs no
    scheduler state."""
    if options.schedule_by == 'time':
        progress = elapsed / (time_limit * 60)
    else:
        progress = (iteration - options.warmup) / max(1, num_iter - options.warmup)
    return options.lr * lr_factor(iteration, progress, options.scheduler, options.warmup)
