"""Training curves from a log_train.txt (kocrnn's or dtrb's own format) into a PNG.

    python3 curves.py saved_models/<run>/log_train.txt [curves.png]

train.py redraws saved_models/<run>/curves.png after every validation. Panels: train and validation
loss, validation accuracy, normalised edit distance and CER against iteration, and accuracy against
wall time (runs resumed into the same log are laid end to end).
"""
import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path

from utils import UserError, run_main, setup_logging

STEP = re.compile(r'^\[(\d+)/\d+\] Train loss: ([\d.eE+-]+|nan|inf), Valid loss: ([\d.eE+-]+|nan|inf), '
                  r'Elapsed_time: ([\d.]+)')
SCORES = re.compile(r'^Current_accuracy\s*: ([\d.]+), Current_norm_ED\s*: ([\d.]+)(?:, CER\s*: ([\d.]+))?')
FIGURE_SIZE = (12, 7)  # inches at DPI: a 1200 x 700 pixel PNG
DPI = 100


@dataclass
class History:
    iteration: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    valid_loss: list = field(default_factory=list)
    minutes: list = field(default_factory=list)  # wall time, resumed runs laid end to end
    accuracy: list = field(default_factory=list)
    norm_ED: list = field(default_factory=list)
    cer: list = field(default_factory=list)


def parse_log(text):
    """The validation points of a train log; a step line without its scores line is left out."""
    history = History()
    pending, offset, last_elapsed = None, 0.0, 0.0
    for line in text.splitlines():
        step = STEP.match(line)
        if step:
            elapsed = float(step.group(4))
            if elapsed < last_elapsed:  # a resumed run starts its clock again
                offset += last_elapsed
            last_elapsed = elapsed
            pending = (int(step.group(1)), float(step.group(2)), float(step.group(3)), (offset + elapsed) / 60)
            continue
        scores = SCORES.match(line)
        if scores and pending:
            for name, value in zip(('iteration', 'train_loss', 'valid_loss', 'minutes'), pending):
                getattr(history, name).append(value)
            history.accuracy.append(float(scores.group(1)))
            history.norm_ED.append(float(scores.group(2)))
            history.cer.append(float(scores.group(3)) if scores.group(3) else float('nan'))
            pending = None
    return history


def plot_history(history, output, title=''):
    """Writes the curves PNG (matplotlib's Agg backend: no display needed) atomically."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 3, figsize=FIGURE_SIZE, dpi=DPI)
    panels = [
        (axes[0, 0], 'loss', [('train', history.train_loss), ('validation', history.valid_loss)], 'log'),
        (axes[0, 1], 'validation accuracy (%)', [('', history.accuracy)], 'linear'),
        (axes[0, 2], 'validation norm_ED', [('', history.norm_ED)], 'linear'),
        (axes[1, 0], 'validation CER', [('', history.cer)], 'linear'),
    ]
    for axis, name, series, scale in panels:
        for label, values in series:
            axis.plot(history.iteration, values, marker='.', label=label or None)
        axis.set_title(name)
        axis.set_xlabel('iteration')
        if scale == 'log' and all(v > 0 for s in series for v in s[1]):
            axis.set_yscale('log')
        if any(label for label, _ in series):
            axis.legend()
        axis.grid(alpha=0.3)
    axes[1, 1].plot(history.minutes, history.accuracy, marker='.')
    axes[1, 1].set_title('validation accuracy (%) against wall time')
    axes[1, 1].set_xlabel('minutes of training')
    axes[1, 1].grid(alpha=0.3)
    axes[1, 2].axis('off')
    if history.iteration:
        best = max(range(len(history.accuracy)), key=history.accuracy.__getitem__)
        axes[1, 2].text(0.05, 0.5, f'{title}\n\nbest accuracy {history.accuracy[best]:.2f} %\n'
                        f'at iteration {history.iteration[best]:,}\nCER {history.cer[best]:.4f}\n\n'
                        f'last: iteration {history.iteration[-1]:,}\n{history.minutes[-1]:.1f} minutes',
                        fontsize=12, va='center')
    figure.tight_layout()
    output = Path(output)
    partial = output.with_name(output.name + '.partial')
    figure.savefig(partial, format='png')  # fixed size: no bbox_inches='tight'
    plt.close(figure)
    partial.replace(output)


def plot_log(log_file, output, title=''):
    plot_history(parse_log(Path(log_file).read_text(encoding='utf-8', errors='replace')), output, title)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('log_file', help='a log_train.txt')
    parser.add_argument('output', nargs='?', help='PNG to write (default: curves.png beside the log)')
    opt = parser.parse_args(argv)
    log = setup_logging()
    log_file = Path(opt.log_file)
    if not log_file.is_file():
        raise UserError(f'no log file {log_file}')
    history = parse_log(log_file.read_text(encoding='utf-8', errors='replace'))
    if not history.iteration:
        raise UserError(f'{log_file} holds no validation line ("[i/N] Train loss: ..." + "Current_accuracy ...")')
    output = Path(opt.output) if opt.output else log_file.with_name('curves.png')
    plot_history(history, output, title=log_file.parent.name)
    log.info('%d validation points -> %s', len(history.iteration), output)


if __name__ == '__main__':
    run_main(main)
