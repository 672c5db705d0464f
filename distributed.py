"""torchrun support for train.py: the process group and the few collectives the loop needs.

Launched by torchrun (LOCAL_RANK and WORLD_SIZE set), train.py runs one process per device with
DistributedDataParallel: NCCL between GPUs, gloo on CPU. Otherwise nothing here does anything, and a
single process (with DataParallel over several GPUs) runs as it always did.
"""
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Process:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    distributed: bool = False

    @property
    def is_main(self):
        """Rank 0 alone validates, logs to files and writes checkpoints."""
        return self.rank == 0


def launched_by_torchrun():
    return 'LOCAL_RANK' in os.environ and 'WORLD_SIZE' in os.environ


def init_process():
    """This process's place in the run; joins the process group when launched by torchrun."""
    if not launched_by_torchrun():
        return Process()
    rank, world_size = int(os.environ['RANK']), int(os.environ['WORLD_SIZE'])
    local_rank = int(os.environ['LOCAL_RANK'])
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
        dist.init_process_group('nccl', device_id=torch.device('cuda', local_rank))
    else:
        dist.init_process_group('gloo')
    return Process(rank, world_size, local_rank, True)


def device_of(process):
    if not torch.cuda.is_available():
        return torch.device('cpu')
    return torch.device('cuda', process.local_rank) if process.distributed else torch.device('cuda')


def _backend_device(process, device):
    return device if process.distributed and dist.get_backend() == 'nccl' else torch.device('cpu')


def any_process(flags, process, device):
    """Each flag made True on every rank when it is True on any: stops (a signal, the time limit) must be
    taken together, or the ranks still training wait forever for the one that left."""
    if not process.distributed:
        return [bool(flag) for flag in flags]
    values = torch.tensor([1.0 if flag else 0.0 for flag in flags], device=_backend_device(process, device))
    dist.all_reduce(values, op=dist.ReduceOp.MAX)
    return [bool(v) for v in values.tolist()]


def mean_over_processes(number, process, device):
    if not process.distributed:
        return number
    value = torch.tensor([float(number)], device=_backend_device(process, device))
    dist.all_reduce(value)
    return value.item() / process.world_size


def share_from_main(obj, process):
    """Rank 0's value of a picklable object, on every rank."""
    if not process.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def wait_for_all(process):
    if process.distributed:
        dist.barrier()


def shutdown(process):
    if process.distributed and dist.is_initialized():
        dist.destroy_process_group()
