"""The Space demo (hub_cards/space/app.py) served locally as on a Space (the model's remote code, without the
modeling_sllm package) and driven in headless Chromium: an uploaded real video shows the model's classes and scores,
the encoded frames and the timings; a file that is not a video shows a clear message. Also the app's `--check` mode on
a model folder saved without a processor, and the Space card."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

import av
import numpy as np
import pytest
import torch
from PIL import Image

from modeling_sllm import SLLMVideoProcessor
from sllm_testing import tiny_model


APP = Path(__file__).resolve().parents[1] / "hub_cards" / "space" / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Class names with Markdown/HTML special characters: the page must show them as written.
LABELS = {0: "walk", 1: "run <fast>", 2: "jump & *turn*"}
SERVER_START_TIMEOUT = 150  # s: importing torch + gradio takes ~30 s on 2 busy cores
PAGE_TIMEOUT_MS = 30_000


def _sync_playwright():
    playwright = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (`pip install playwright`)"
    )
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing (Debian package `chromium`)")
    return playwright


@pytest.fixture(scope="module")
def space_model(tmp_path_factory):
    """A tiny classifier folder with its processor; and the same weights saved without a processor."""
    model = tiny_model(seed=3, id2label=LABELS)
    folder = tmp_path_factory.mktemp("space") / "sllm-tiny"
    model.save_pretrained(folder)
    SLLMVideoProcessor.from_model_config(model.config).save_pretrained(folder)
    without_processor = folder.parent / "sllm-tiny-no-processor"
    model.save_pretrained(without_processor)
    return model, folder, without_processor


def _expected(model, folder, video):
    """The package's own prediction for `video`: probabilities per class and the encoded frame indices."""
    inputs = SLLMVideoProcessor.from_pretrained(folder)(str(video), return_tensors="pt", return_metadata=True)
    with torch.no_grad():
        probabilities = model(pixel_values=inputs["pixel_values"]).logits.softmax(-1)[0]
    scores = {model.config.id2label[i]: float(p) for i, p in enumerate(probabilities)}
    return scores, list(inputs["video_metadata"][0].frames_indices)


def _write_clip(path: Path, num_frames: int = 40) -> Path:
    """A small MPEG-4 clip (96x64, 25 fps) of moving colour ramps."""
    container = av.open(str(path), mode="w")
    try:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        y, x = np.mgrid[0:64, 0:96]
        for i in range(num_frames):
            frame = np.stack([(x * 2 + 6 * i) % 256, (y * 4) % 256, np.full_like(x, 5 * i % 256)], -1).astype(np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    finally:
        container.close()
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _hide_package(folder: Path) -> Path:
    """A folder to put first on PYTHONPATH so that `import modeling_sllm` fails, as on a Space."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "modeling_sllm.py").write_text('raise ImportError("modeling_sllm is hidden from this process")\n')
    return folder


@pytest.fixture(scope="module")
def app_server(space_model, tmp_path_factory):
    """`python app.py --model <folder> --port <free port> --examples <clip>` in a subprocess (always killed), as on a
    Space: without the modeling_sllm package (the model's remote code is used). Yields the app's URL."""
    _sync_playwright()
    _, folder, _ = space_model
    work = tmp_path_factory.mktemp("space-app")
    port = _free_port()
    example = _write_clip(work / "example-clip.mp4")
    env = dict(
        os.environ,
        HF_HUB_OFFLINE="1",
        GRADIO_TEMP_DIR=str(work / "gradio"),
        HF_MODULES_CACHE=str(work / "modules"),
        PYTHONPATH=str(_hide_package(work / "hide-package")),
        PYTHONUNBUFFERED="1",
    )
    log_path = work / "app.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, str(APP), "--model", str(folder), "--port", str(port), "--examples", str(example)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=work,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"the app exited with code {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                log_tail = log_path.read_text()[-3000:]
                pytest.fail(f"the app did not answer on {url} within {SERVER_START_TIMEOUT} s:\n{log_tail}")
            time.sleep(0.5)
        yield SimpleNamespace(url=url, log=log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture(scope="module")
def browser(app_server):
    playwright = _sync_playwright()
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=PAGE_TIMEOUT_MS)
        try:
            yield chromium
        finally:
            chromium.close()


def _open_page(browser, app_server):
    """A fresh page on the app; `requests` collects the URL of every request the page makes."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(app_server.url, timeout=PAGE_TIMEOUT_MS)
    return page, requests


def _upload(page, path):
    page.locator("#video-input input[type=file]").set_input_files(str(path), timeout=PAGE_TIMEOUT_MS)


def test_page_shows_the_models_classes_encoded_frames_and_timings(
    space_model, app_server, browser, bikes_video, tmp_path
):
    expect = _sync_playwright().expect
    model, folder, _ = space_model
    scores, frame_indices = _expected(model, folder, bikes_video)
    page, requests = _open_page(browser, app_server)
    screenshot = tmp_path / "space_app_bikes.png"
    try:
        _upload(page, bikes_video)
        expect(page.locator("#timing")).to_contain_text("Model:", timeout=60_000)
        expect(page.locator("#encoded-frames .thumbnail-item img")).to_have_count(len(frame_indices))
        page.wait_for_function(
            "() => [...document.querySelectorAll('#encoded-frames img')].every(i => i.complete && i.naturalWidth > 0)"
        )
        preview = page.locator("#video-preview video").first  # the uploaded video, shown after the results
        preview.wait_for(state="attached")
        page.screenshot(path=str(screenshot), full_page=True)
        where = f"(screenshot: {screenshot})"

        # labels and scores, best first, as the model computes them (the label list rounds to whole percents)
        names = page.locator("#top-label .confidence-set dt").all_inner_texts()
        percents = page.locator("#top-label .confidence-set dd").all_inner_texts()
        ranked = sorted(scores, key=scores.get, reverse=True)
        assert names == ranked, where
        assert page.locator("#top-label [data-testid=label-output-value]").inner_text() == ranked[0], where
        for name, percent in zip(names, percents):
            assert re.fullmatch(r"\d+%", percent), (percent, where)
            assert abs(int(percent[:-1]) - 100 * scores[name]) <= 0.51, (name, percent, scores[name], where)

        # the bar chart: one bar per class, named on the x axis
        chart_text = page.locator("#top-chart svg text").all_text_contents()  # SVG: no innerText
        assert set(LABELS.values()) <= set(chart_text), (chart_text, where)
        assert page.locator("#top-chart svg .mark-rect path").count() == len(LABELS), where

        # the encoded frames, in time order, captioned with their index and time (bikes.mp4 is 25 fps)
        captions = page.locator("#encoded-frames .thumbnail-item .caption-label").all_inner_texts()
        assert len(captions) == model.config.num_frames, where
        assert captions == [f"#{i} · {i / 25:.2f}s" for i in frame_indices], where

        assert preview.get_attribute("src").endswith("bikes.mp4"), where
        status = page.locator("#status").inner_text()
        assert "bikes.mp4" in status and "250 frames" in status and "encoded 4 frames" in status, (status, where)
        timing = page.locator("#timing").inner_text()
        match = re.search(r"Decoding \+ preprocessing: ([\d.]+) ms · Model: ([\d.]+) ms", timing)
        assert match and float(match[1]) > 0 and float(match[2]) > 0, (timing, where)

        # nothing but the app itself was contacted (no analytics, fonts or CDNs)
        hosts = {urlparse(url).netloc for url in requests if urlparse(url).scheme in ("http", "https", "ws", "wss")}
        assert hosts == {urlparse(app_server.url).netloc}, (hosts, where)
        # and the app ran as on a Space: from the model's remote code
        assert "the model's remote code (modeling_sllm is not installed)" in app_server.log.read_text()
    finally:
        page.close()
    assert screenshot.stat().st_size > 10_000, f"screenshot {screenshot} looks empty"


def test_example_clip_is_classified_on_click(app_server, browser, tmp_path):
    expect = _sync_playwright().expect
    page, _ = _open_page(browser, app_server)
    screenshot = tmp_path / "space_app_example.png"
    try:
        page.get_by_text("example-clip.mp4").first.click()
        expect(page.locator("#status")).to_contain_text("example-clip.mp4", timeout=60_000)
        expect(page.locator("#encoded-frames .thumbnail-item img")).to_have_count(4)
        page.screenshot(path=str(screenshot), full_page=True)
        status = page.locator("#status").inner_text()
        assert "40 frames at 25 fps, 96x64" in status, f"{status!r} (screenshot: {screenshot})"
        assert page.locator("#top-label .confidence-set").count() == len(LABELS), f"screenshot: {screenshot}"
    finally:
        page.close()


@pytest.mark.parametrize(
    "name, reason",
    [("notes.mp4", "is not a video file"), ("still.png", "is a still image (png_pipe), not a video")],
    ids=["text-renamed-mp4", "png"],
)
def test_page_explains_a_non_video_upload(app_server, browser, tmp_path, name, reason):
    expect = _sync_playwright().expect
    path = tmp_path / name
    if name.endswith(".png"):
        Image.fromarray(np.full((64, 96, 3), 120, dtype=np.uint8)).save(path)
    else:
        path.write_text("These are notes, not a video.\n")
    page, _ = _open_page(browser, app_server)
    screenshot = tmp_path / f"space_app_{path.stem}.png"
    try:
        _upload(page, path)
        status = page.locator("#status")
        expect(status).to_contain_text("Cannot classify this file", timeout=60_000)
        page.screenshot(path=str(screenshot), full_page=True)
        text = status.inner_text()
        assert f"'{name}' {reason}" in text, f"{text!r} (screenshot: {screenshot})"
        assert "upload a video" in text.lower(), f"{text!r} (screenshot: {screenshot})"
        body = page.locator("body").inner_text()
        assert "Traceback" not in body and "gradio" not in text, f"screenshot: {screenshot}"
        assert page.locator("#encoded-frames img").count() == 0, f"screenshot: {screenshot}"
        assert page.locator("#top-label .confidence-set").count() == 0, f"screenshot: {screenshot}"
        assert page.locator("#timing").inner_text().strip() == "", f"screenshot: {screenshot}"
    finally:
        page.close()


def test_check_mode_builds_the_processor_of_a_folder_saved_without_one(space_model, bikes_video, tmp_path):
    """`app.py --check VIDEO` (with the package) on a model folder saved without its processor: the processor is built
    from the model's config, the prediction is the package's own and the page would say so."""
    model, folder, without_processor = space_model
    scores, frame_indices = _expected(model, folder, bikes_video)
    completed = subprocess.run(
        [sys.executable, str(APP), "--model", str(without_processor), "--check", str(bikes_video)],
        capture_output=True,
        text=True,
        env=dict(os.environ, HF_HUB_OFFLINE="1"),
        cwd=tmp_path,
        timeout=180,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert [label for label, _ in report["scores"]] == sorted(scores, key=scores.get, reverse=True)
    for label, score in report["scores"]:
        assert score == pytest.approx(scores[label], abs=1e-5), label
    assert report["frame_indices"] == frame_indices and report["total_frames"] == 250
    assert report["frame_shapes"] == [[128, 128, 3]] * model.config.num_frames  # 32x32 crops shown 4x larger
    assert report["preprocess_ms"] > 0 and report["model_ms"] > 0
    assert "No video processor was saved" in report["processor_note"]


def test_space_card_and_requirements_agree():
    """The Space card is valid Spaces metadata for this app, and pins the gradio that requirements.txt pins."""
    from huggingface_hub import SpaceCard

    space = APP.parent
    card = SpaceCard.load(space / "README.md").data
    assert (card.sdk, card.app_file, card.license) == ("gradio", "app.py", "apache-2.0")
    assert (space / card.app_file).is_file() and card.title and card.emoji
    assert len(card.short_description) <= 60
    pins = dict(
        line.split("==")
        for line in (space / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    assert pins["gradio"] == card.sdk_version
    assert {"torch", "torchvision", "transformers", "av", "pandas", "pillow"} <= set(pins)
