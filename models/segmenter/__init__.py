"""Our promptable segmenter: a frozen EfficientNet-Lite0 image embedding and a small decoder that
turns clicks, a box or a previous mask into nested candidate masks with scores (SAM's interface)."""
from models.segmenter.encoder import ImageEncoder
from models.segmenter.network import ANSWER, CANDIDATES, OUTPUTS, PromptDecoder, SegmenterConfig, embed
from models.segmenter.prompts import Prompts, prompt_batch

__all__ = ["ANSWER", "CANDIDATES", "OUTPUTS", "ImageEncoder", "PromptDecoder", "Prompts", "SegmenterConfig", "embed", "prompt_batch"]
