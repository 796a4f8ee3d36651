"""``simnet train``: train SIM-Net on BSDS500 (see models/training/trainer.py)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.commands import add_command


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "train",
                         description="Self-supervised training on synthetic edits of BSDS500 regions. "
                                     "Run under torchrun for several GPUs (DDP).")
    parser.add_argument("--data", default="../shared/data/bsds500", help="the BSDS500 folder (images/, groundTruth/)")
    parser.add_argument("--out", required=True, help="run folder: pair cache, last.pt, best.pt")
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--train-pairs", type=int, default=6000)
    parser.add_argument("--val-pairs", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2, help="processes that build the training pairs")
    parser.add_argument("--save-every", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: torch's default)")
    parser.add_argument("--no-resume", action="store_true", help="start afresh even if OUT has a checkpoint")
    parser.add_argument("--init", metavar="CHECKPOINT", default=None,
                        help="fine-tune: start from this model's weights and config (e.g. resources/simnet.pt) "
                             "unless OUT already has a last.pt to resume")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from engine.commands.options import check_run_to_resume
    from engine.devices import resolve_device
    from engine.errors import SimNetError
    from models.training.trainer import TrainOptions, train

    data = Path(args.data)
    if not (data / "images").is_dir() or not (data / "groundTruth").is_dir():
        raise SimNetError(f"{data} is not a BSDS500 folder (expected images/ and groundTruth/)")
    check_run_to_resume(args.out, not args.no_resume)
    device = str(resolve_device(args.device))  # CUDA asked for and absent: one line before the pairs are built
    if args.threads:
        torch.set_num_threads(args.threads)
    initial = None
    if args.init:
        from engine.checkpoint import load_model

        initial = load_model(args.init, device="cpu")
    options = TrainOptions(data=data, out=Path(args.out), steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                           device=device, seed=args.seed, train_pairs=args.train_pairs, val_pairs=args.val_pairs,
                           workers=args.workers, save_every=args.save_every, resume=not args.no_resume,
                           initial=initial)
    if initial is not None:
        options.config = initial.config
    train(options, report=lambda message: print(message, flush=True, file=sys.stdout))
    return 0
