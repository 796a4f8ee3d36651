"""``simnet segment-train --data BSDS500 --out RUN``: train the promptable segmenter's decoder on
BSDS500 (features cached in RUN/cache, checkpoints in RUN, resumable), then ``--export`` the small
float16 checkpoint that ships in resources/segmenter.pt."""
from __future__ import annotations

import argparse
from pathlib import Path

from engine.commands import add_command
from engine.errors import SimNetError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "segment_train",
                         description="Train the promptable segmenter (frozen EfficientNet-Lite0 features, "
                                     "a small decoder) with simulated clicks on BSDS500.")
    parser.add_argument("--data", default="../shared/data/bsds500", help="the BSDS500 folder (images/, groundTruth/; "
                        "default ../shared/data/bsds500, as simnet train)")
    parser.add_argument("--out", required=True, help="the run folder: feature cache, log, checkpoints")
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--init", default=None, metavar="SEGMENTER.pt",
                        help="start from these decoder weights (fine-tuning) when RUN has no checkpoint to resume")
    parser.add_argument("--crop", default="256x384", metavar="HxW", help="training window in pixels, multiples of 16")
    parser.add_argument("--mask-threshold", type=float, default=None, metavar="LOGIT",
                        help="with --export: the logit threshold chosen on validation photos (default: keep)")
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed of the windows, prompts and initial weights (runs to average differ by it)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                        help="where the decoder trains (auto: CUDA when present); the feature cache stays on the CPU")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1: the machine is shared)")
    parser.add_argument("--outlined-share", type=float, default=0.0, metavar="SHARE",
                        help="share of batches drawn from outlined composites (a training photo's region shape filled "
                             "with another photo and ringed by a dark stroke); their shapes leave out the photos "
                             "whose regions make simnet eval-fill's objects (seeds 0 and 1)")
    parser.add_argument("--laced-share", type=float, default=0.0, metavar="SHARE",
                        help="with --outlined-share: share of the composites whose ground is laced with dark lines "
                             "and loops of the outline's colour (so that dark lines alone do not make an object)")
    parser.add_argument("--keep-initial", type=float, default=0.0, metavar="WEIGHT",
                        help="with --init: weight of a loss keeping the answers to photo batches near the starting "
                             "decoder's (distillation), so that --outlined-share adds without forgetting")
    parser.add_argument("--export", default=None, metavar="SEGMENTER.pt",
                        help="after training, write the shipping checkpoint (float16, no optimizer) here")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from engine.commands.options import check_run_to_resume
    from engine.devices import resolve_device
    from engine.segmentation.checkpoint import export_segmenter, load_decoder
    from models.training.segmenter_trainer import SegmenterTrainer, SegmenterTrainOptions

    data = Path(args.data)
    if not (data / "images").is_dir() or not (data / "groundTruth").is_dir():
        raise SimNetError(f"{data} is not a BSDS500 folder (it needs images/ and groundTruth/)")
    if args.steps < 1 or args.batch_size < 1:
        raise SimNetError("--steps and --batch-size must be at least 1")
    try:
        crop = tuple(int(side) for side in args.crop.lower().split("x"))
    except ValueError:
        crop = ()
    if len(crop) != 2 or any(side < 16 or side % 16 for side in crop):
        raise SimNetError(f"--crop {args.crop!r}: give HxW, both multiples of 16, e.g. 256x384")
    check_run_to_resume(args.out, can_start_afresh=False)  # this trainer always resumes what OUT holds
    device = str(resolve_device(args.device))
    torch.set_num_threads(max(1, args.threads))
    initial = load_decoder(args.init).train() if args.init else None
    if not 0.0 <= args.outlined_share < 1.0:
        raise SimNetError("--outlined-share must be at least 0 and below 1")
    if not 0.0 <= args.laced_share <= 1.0 or (args.laced_share > 0 and args.outlined_share == 0):
        raise SimNetError("--laced-share needs --outlined-share and a share from 0 to 1")
    if args.keep_initial < 0 or (args.keep_initial > 0 and initial is None):
        raise SimNetError("--keep-initial needs --init and a weight of at least 0")
    excluded = frozenset()
    if args.outlined_share > 0:
        from engine.evaluation.fill_cases import shape_source_names
        excluded = shape_source_names(data, (0, 1))
    options = SegmenterTrainOptions(data=data, out=Path(args.out), steps=args.steps, batch_size=args.batch_size,
                                    lr=args.lr, crop=crop, initial=initial, seed=args.seed,
                                    device=device, outlined_share=args.outlined_share, excluded_shapes=excluded,
                                    keep_initial=args.keep_initial, laced_share=args.laced_share)
    try:
        trainer = SegmenterTrainer(options, report=lambda line: print(line, flush=True))
    except ValueError as error:  # the outlined composites could not be made from this data
        raise SimNetError(str(error)) from error
    trainer.run()
    if args.export:
        export_segmenter(trainer.last_path, args.export, {"steps": trainer.step, "data": "BSDS500 train"},
                         args.mask_threshold)
        print(f"wrote {args.export}")
    return 0
