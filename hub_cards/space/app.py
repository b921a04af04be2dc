# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Gradio demo of an SLLM video classifier: the Hugging Face Space app, also served locally.

    python app.py --model <model folder or Hub id> [--port 7860] [--host 127.0.0.1] [--examples a.mp4 b.mp4 ...]

Upload a video (or pick an example clip): the page shows the top-5 classes (bar chart and label list), the frames the
vision tower encoded (SLLM keeps one of every `keep_interval` sampled frames) and the time spent decoding +
preprocessing and in the model. A file that is not a video gets a message on the page, never a stack trace.

The app needs only its `requirements.txt`: with the `modeling_sllm` package installed the model is built from it,
otherwise from the remote code saved with the model (`trust_remote_code=True`). On a Space, the model id comes from
the `SLLM_MODEL` variable or else the first of `models:` in the Space card (README.md next to this file), and the
example clips from `SLLM_EXAMPLES` (paths separated by `:`) or the `examples/` folder next to this file.
No analytics or other network calls are made, apart from loading a Hub model.
"""

import argparse
import html
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

# Before gradio is imported (lazily: `--check` runs without it): no usage analytics, no telemetry.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.setdefault("DO_NOT_TRACK", "1")

import av  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from transformers import AutoModelForVideoClassification, AutoVideoProcessor  # noqa: E402
from transformers.dynamic_module_utils import get_class_from_dynamic_module  # noqa: E402


try:  # registers the SLLM classes with the Auto classes; without it the model's remote code is used
    import modeling_sllm  # noqa: F401

    PACKAGE_AVAILABLE = True
except ImportError:
    PACKAGE_AVAILABLE = False

logger = logging.getLogger("sllm_space")

TOP_K = 5
MIN_THUMBNAIL_SIDE = 112
GALLERY_COLUMNS = 8
VIDEO_EXTENSIONS = (".mp4", ".webm", ".mkv", ".avi", ".mov", ".m4v", ".mpg", ".mpeg", ".ogv", ".gif")
# FFmpeg demuxers of still images: PyAV opens a PNG or JPEG (whatever its file name) as a one-frame "video".
_IMAGE_DEMUXERS = re.compile(r"(_pipe|^image2|^(apng|webp|bmp|tiff|jpegxl|psd)$)")


class SLLMDemoInputError(ValueError):
    """An upload the demo cannot classify; the message (shown on the page) names the file and the problem."""


@dataclass
class SLLMDemoPrediction:
    """
    What the page shows for one video.

    Args:
        scores (`list[tuple[str, float]]`): the top classes and their probabilities, best first.
        frames (`list[np.ndarray]`): the encoded frames as uint8 RGB images `(height, width, 3)`, in time order.
        frame_indices (`list[int]`): index of each encoded frame in the video.
        total_frames (`int`), fps (`float` or `None`), width (`int`), height (`int`): the video's metadata.
        preprocess_ms (`float`): decoding + preprocessing time; model_ms (`float`): forward time.
    """

    scores: list[tuple[str, float]]
    frames: list[np.ndarray] = field(repr=False)
    frame_indices: list[int]
    total_frames: int
    fps: float | None
    width: int
    height: int
    preprocess_ms: float
    model_ms: float


def _md(text: str) -> str:
    """`text` (a file or class name) escaped for a Markdown component: no HTML, no Markdown markup."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~>])", r"\\\1", html.escape(str(text), quote=False))


def _processor_class(model_name_or_path: str, error: Exception):
    """`SLLMVideoProcessor` from the package, else from the model's remote code; a clear exit when neither has it."""
    if PACKAGE_AVAILABLE:
        return modeling_sllm.SLLMVideoProcessor
    try:
        return get_class_from_dynamic_module("video_processing_sllm.SLLMVideoProcessor", model_name_or_path)
    except (OSError, ValueError):
        raise SystemExit(
            f"'{model_name_or_path}' has no video processor ({error}) and the modeling_sllm package is not installed: "
            "save the processor next to the model (`SLLMVideoProcessor.from_model_config(model.config)"
            ".save_pretrained(folder)`) or install the package (`pip install sllm-hf`)."
        ) from None


def load_classifier(model_name_or_path: str, device: str = "cpu"):
    """
    Loads `(model, processor, note)` from a folder or Hub id: `AutoModelForVideoClassification` and
    `AutoVideoProcessor`. A model saved without a processor gets one built from its config (`note` says so).
    """
    trust_remote_code = not PACKAGE_AVAILABLE
    logger.info(
        "Loading '%s' with %s",
        model_name_or_path,
        "the model's remote code (modeling_sllm is not installed)"
        if trust_remote_code
        else "the modeling_sllm package",
    )
    try:
        model = AutoModelForVideoClassification.from_pretrained(
            model_name_or_path, trust_remote_code=trust_remote_code
        )
    except (OSError, ValueError) as error:
        raise SystemExit(f"Cannot load a video classifier from '{model_name_or_path}': {error}") from error
    model = model.to(device).eval()
    note = None
    try:
        processor = AutoVideoProcessor.from_pretrained(model_name_or_path, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as error:
        logger.warning(
            "'%s' has no video processor (%s): building one from the model config", model_name_or_path, error
        )
        processor_class = _processor_class(model_name_or_path, error)
        processor = processor_class.from_model_config(model.config)
        note = "No video processor was saved with this model: the frames are prepared from the model's config."
    return model, processor, note


def _error_text(error: Exception, path: str) -> str:
    """The error's message (FFmpeg's reason rather than its error number) with the upload's name for its path."""
    text = getattr(error, "strerror", None) or str(error)
    return str(text).replace(str(path), Path(path).name)


def check_is_video(path: str) -> None:
    """Raises `SLLMDemoInputError` unless FFmpeg reads `path` as a video (not an image, not audio, not text)."""
    name = Path(path).name
    try:
        container = av.open(path)
    except (av.error.FFmpegError, OSError, ValueError) as error:
        raise SLLMDemoInputError(
            f"'{name}' is not a video file ({_error_text(error, path)}): it is another kind of file, or a corrupt "
            "video. Upload a video such as mp4, webm, mkv or avi."
        ) from error
    try:
        kinds = [stream.type for stream in container.streams]
        format_name = container.format.name
    finally:
        container.close()
    if "video" not in kinds:
        streams = ", ".join(kinds) or "none"
        raise SLLMDemoInputError(f"'{name}' has no video stream (streams: {streams}): upload a video.")
    if _IMAGE_DEMUXERS.search(format_name):
        raise SLLMDemoInputError(f"'{name}' is a still image ({format_name}), not a video: upload a video file.")


def frames_for_display(pixel_values: torch.Tensor, processor) -> list[np.ndarray]:
    """
    Undoes the processor's normalisation and rescaling of `pixel_values` `(num_frames, 3, height, width)`: uint8 RGB
    images `(height', width', 3)`, enlarged (nearest neighbour) to at least `MIN_THUMBNAIL_SIDE` pixels.
    """
    frames = pixel_values.detach().float().cpu()
    if getattr(processor, "do_normalize", False):
        mean = torch.tensor(processor.image_mean, dtype=frames.dtype).view(1, -1, 1, 1)
        std = torch.tensor(processor.image_std, dtype=frames.dtype).view(1, -1, 1, 1)
        frames = frames * std + mean
    if getattr(processor, "do_rescale", False):
        frames = frames / processor.rescale_factor
    frames = frames.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    images = []
    for frame in frames:
        scale = max(1, -(-MIN_THUMBNAIL_SIDE // min(frame.shape[:2])))
        if scale > 1:
            size = (frame.shape[1] * scale, frame.shape[0] * scale)
            frame = np.asarray(Image.fromarray(frame).resize(size, Image.NEAREST))
        images.append(frame)
    return images


def _synchronize(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def classify_video(model, processor, path: str, top_k: int = TOP_K) -> SLLMDemoPrediction:
    """Decodes the frames the model encodes from `path`, classifies them and times both steps."""
    check_is_video(path)
    name = Path(path).name
    start = time.perf_counter()
    try:
        inputs = processor(path, return_tensors="pt", return_metadata=True)
    except (OSError, ValueError) as error:
        raise SLLMDemoInputError(_error_text(error, path)) from error
    metadata = inputs.pop("video_metadata")[0]
    if metadata.total_num_frames is not None and metadata.total_num_frames < 2:
        raise SLLMDemoInputError(f"'{name}' has a single frame: it is a still image, not a video.")
    pixel_values = inputs["pixel_values"].to(model.device, model.dtype)
    preprocess_ms = (time.perf_counter() - start) * 1000
    _synchronize(model.device)
    start = time.perf_counter()
    with torch.inference_mode():
        logits = model(pixel_values=pixel_values).logits
    _synchronize(model.device)
    model_ms = (time.perf_counter() - start) * 1000
    probabilities = logits.float().softmax(-1)[0].cpu()
    values, indices = probabilities.topk(min(top_k, probabilities.numel()))
    scores = [(model.config.id2label[int(i)], float(v)) for v, i in zip(values, indices)]
    return SLLMDemoPrediction(
        scores=scores,
        frames=frames_for_display(inputs["pixel_values"][0], processor),
        frame_indices=[int(i) for i in metadata.frames_indices],
        total_frames=int(metadata.total_num_frames),
        fps=metadata.fps,
        width=int(metadata.width),
        height=int(metadata.height),
        preprocess_ms=preprocess_ms,
        model_ms=model_ms,
    )


def _chart_data(scores: list[tuple[str, float]]) -> pd.DataFrame:
    """The bar chart's data: a nominal `class` column and a quantitative `probability` column."""
    return pd.DataFrame(
        {
            "class": pd.Series([label for label, _ in scores], dtype=str),
            "probability": pd.Series([score for _, score in scores], dtype=float),
        }
    )


def _empty_outputs(status: str):
    """Page outputs without a result: status, label, chart, gallery, timing, the preview's video path."""
    return status, None, _chart_data([]), [], "", None


def build_demo(model, processor, model_name: str, examples: list[str] = (), note: str | None = None):
    """The page (a `gr.Blocks`): video upload, examples and preview, then the top classes, the encoded frames and the
    timings."""
    import gradio as gr

    config = model.config
    num_frames, keep_interval = processor.num_frames, getattr(processor, "keep_interval", 1)
    intro = (
        f"# SLLM video classification: {_md(model_name)}\n"
        "SLLM (*Sample Less, Learn More*, ACM MM 2023) encodes only one in every "
        f"{keep_interval} sampled frames with CLIP ({num_frames} frames here) and restores the features of the "
        f"skipped frames before the temporal head. {len(config.id2label)} classes."
    )
    if note:
        intro += f"\n\n*{_md(note)}*"

    def on_video(path):
        if not path:
            return _empty_outputs("Upload a video or pick an example clip.")
        name = Path(path).name
        try:
            prediction = classify_video(model, processor, path)
        except SLLMDemoInputError as error:
            return _empty_outputs(f"**Cannot classify this file.** {_md(error)}")
        except Exception as error:  # noqa: BLE001  (the page shows a message; the log keeps the traceback)
            logger.exception("Classifying '%s' failed", path)
            return _empty_outputs(f"**Classifying '{_md(name)}' failed** ({type(error).__name__}): {_md(error)}")
        fps = prediction.fps
        status = (
            f"**{_md(name)}**: {prediction.total_frames} frames"
            + (f" at {fps:g} fps" if fps else "")
            + f", {prediction.width}x{prediction.height}. The model encoded {len(prediction.frames)} frames "
            f"({num_frames * keep_interval} sampled, keep interval {keep_interval})."
        )
        labels = {label: score for label, score in prediction.scores}
        chart = _chart_data(prediction.scores)
        gallery = [
            (frame, f"#{index} · {index / fps:.2f}s" if fps else f"frame {index}")
            for frame, index in zip(prediction.frames, prediction.frame_indices)
        ]
        timing = (
            f"Decoding + preprocessing: **{prediction.preprocess_ms:.1f} ms** · "
            f"Model: **{prediction.model_ms:.1f} ms** ({model.device.type}, {len(prediction.frames)} frames encoded)"
        )
        return status, labels, chart, gallery, timing, path

    with gr.Blocks(title=f"SLLM: {model_name}", analytics_enabled=False) as demo:
        gr.Markdown(intro, elem_id="intro")
        with gr.Row():
            with gr.Column(scale=1):
                # A file box rather than gr.Video: gr.Video's page drops a non-video file without a word, a file box
                # passes every upload to `on_video`, which explains what is wrong with it.
                upload = gr.File(label="Video file", file_count="single", type="filepath", elem_id="video-input")
                if examples:
                    gr.Examples(examples=[[path] for path in examples], inputs=[upload], label="Example clips")
                preview = gr.Video(label="Video", interactive=False, elem_id="video-preview")
            with gr.Column(scale=1):
                status = gr.Markdown("Upload a video or pick an example clip.", elem_id="status")
                chart = gr.BarPlot(
                    _chart_data([]),
                    x="class",
                    y="probability",
                    y_lim=[0, 1],
                    sort="-y",
                    title=f"Top-{TOP_K} classes",
                    label="Top classes (chart)",
                    show_label=False,
                    elem_id="top-chart",
                )
                label = gr.Label(num_top_classes=TOP_K, label="Top classes", elem_id="top-label")
        gallery = gr.Gallery(
            label="Frames encoded by the model",
            columns=GALLERY_COLUMNS,
            fit_columns=False,
            height=-(-num_frames // GALLERY_COLUMNS) * 150 + 30,  # a fixed height would leave a tall empty box
            object_fit="contain",
            format="png",
            elem_id="encoded-frames",
        )
        timing = gr.Markdown(elem_id="timing")
        classified = gr.State(None)
        upload.change(on_video, inputs=upload, outputs=[status, label, chart, gallery, timing, classified]).then(
            lambda path: path, inputs=classified, outputs=preview
        )
    return demo


def _parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Serve the Gradio demo of an SLLM video classifier (locally, or as a Hugging Face Space).",
    )
    parser.add_argument(
        "--model",
        default=os.environ.get("SLLM_MODEL") or _card_model(),
        help="Model folder or Hub id (default: the SLLM_MODEL variable, else the first of `models:` in README.md).",
    )
    parser.add_argument(
        "--examples",
        nargs="*",
        default=None,
        help="Example video clips (default: SLLM_EXAMPLES, paths separated by ':', or the files of ./examples).",
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        help="Address to serve on (default: GRADIO_SERVER_NAME or 127.0.0.1).",
    )
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)), help="Port (default: 7860)."
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="Torch device.")
    parser.add_argument(
        "--check",
        metavar="VIDEO",
        help="Classify VIDEO, print the prediction as JSON and exit without serving the page (a smoke test).",
    )
    args = parser.parse_args(argv)
    if not args.model:
        parser.error("give the model folder or Hub id with --model (or set SLLM_MODEL, or `models:` in README.md)")
    return args


def _card_model() -> str | None:
    """The first entry of `models:` in the Space card (README.md next to this file): the model the Space shows."""
    card = Path(__file__).resolve().parent / "README.md"
    if not card.is_file():
        return None
    from huggingface_hub import metadata_load

    models = (metadata_load(card) or {}).get("models") or []
    models = [models] if isinstance(models, str) else models
    return str(models[0]) if models else None


def _default_examples() -> list[str]:
    if os.environ.get("SLLM_EXAMPLES"):
        return [path for path in os.environ["SLLM_EXAMPLES"].split(":") if path]
    folder = Path(__file__).resolve().parent / "examples"
    if not folder.is_dir():
        return []
    return sorted(str(path) for path in folder.iterdir() if path.suffix.lower() in VIDEO_EXTENSIONS)


def warm_up(model, processor) -> None:
    """One forward pass on blank frames, so that the first upload's model time is not the warm-up's."""
    size = processor.crop_size
    pixel_values = torch.zeros(1, processor.num_frames, 3, size["height"], size["width"], device=model.device)
    with torch.inference_mode():
        model(pixel_values=pixel_values.to(model.dtype))


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = _parse_args(argv)
    if args.check:
        model, processor, note = load_classifier(args.model, device=args.device)
        warm_up(model, processor)
        try:
            prediction = classify_video(model, processor, args.check)
        except SLLMDemoInputError as error:
            raise SystemExit(f"Cannot classify: {error}") from error
        report = {key: value for key, value in vars(prediction).items() if key != "frames"}
        report.update(processor_note=note, frame_shapes=[list(frame.shape) for frame in prediction.frames])
        print(json.dumps(report))
        return prediction
    import gradio as gr

    examples = _default_examples() if args.examples is None else args.examples
    examples = [str(Path(path).resolve()) for path in examples]
    missing = [path for path in examples if not Path(path).is_file()]
    if missing:
        raise SystemExit(f"Example clips not found: {', '.join(missing)}")
    model, processor, note = load_classifier(args.model, device=args.device)
    warm_up(model, processor)
    if examples:  # served from where they are, never copied (they may sit outside the working directory)
        gr.set_static_paths(examples)
    model_name = Path(args.model).name if Path(args.model).exists() else args.model
    demo = build_demo(model, processor, model_name, examples, note)
    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
    demo.queue(default_concurrency_limit=1).launch(
        server_name=args.host,
        server_port=args.port,
        theme=theme,  # system fonts: the page loads nothing from font CDNs
        ssr_mode=False,
        mcp_server=False,
        show_error=False,
        max_file_size="500mb",
        footer_links=[],
    )


if __name__ == "__main__":
    main()
