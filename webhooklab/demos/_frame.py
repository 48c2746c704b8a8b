"""What every demo shares: a heading and its idea in two or three sentences, the controls, one main button,
a reset, a line that says what just happened, and the stage where real requests appear.

A demo owns what it runs (a receiver, a sender, a relay) and builds it again on reset, so the page goes back
to its start however far it went. Its main action is a plain method, run(), that tests call directly; the
button only calls it, in a thread when it takes a while, and any error is shown in the demo, not lost.
"""

from __future__ import annotations

import html
import threading

import ipywidgets as widgets

from ..widgets._capture import error_html

# Sized for a projector at 1280×720: large type, strong contrast (at least 4.5:1 on white), nothing that
# needs colour alone (every verdict has its mark: ✓ ✗ –).
STYLE = """<style>
.wl-demo {font-size: 17px; line-height: 1.45; color: #1b1b1b; max-width: 1180px}
.wl-demo h1 {font-size: 30px; margin: 4px 0 6px}
.wl-demo p {margin: 4px 0}
.wl-demo .wl-said {font-size: 19px; min-height: 1.5em}
.wl-demo table {border-collapse: collapse; margin-top: 4px}
.wl-demo th, .wl-demo td {padding: 3px 12px 3px 0; text-align: left; vertical-align: top}
.wl-demo th {border-bottom: 1px solid #6b6b6b; font-weight: 600}
.wl-demo code {font-size: 15px; overflow-wrap: anywhere}
.wl-demo .ok {color: #18692e; font-weight: 600}
.wl-demo .bad {color: #a4161a; font-weight: 600}
.wl-demo .quiet {color: #4d4d4d}
.wl-demo mark {background: #ffd54f; color: #1b1b1b}
.wl-demo-app .widget-toggle-button, .wl-demo-app .jupyter-button {font-size: 16px; height: 36px}
.wl-demo-app .widget-label, .wl-demo-app .widget-readout {font-size: 16px}
</style>"""
WIDE = widgets.Layout(width="max-content", min_width="148px", height="36px")


def escaped(value) -> str:
    return html.escape("" if value is None else str(value))


def rows(head: list[str], body: list[list[str]]) -> str:
    """A table: `head` in plain words, `body` as cells already escaped (or built from escaped parts)."""
    heading = "".join(f"<th scope='col'>{escaped(name)}</th>" for name in head)
    lines = "".join("<tr>" + "".join(f"<td>{value}</td>" for value in line) + "</tr>" for line in body)
    return f"<table><thead><tr>{heading}</tr></thead><tbody>{lines}</tbody></table>"


def mark(ok: bool | None, text: str) -> str:
    """A verdict with its mark first, so that it never depends on colour."""
    if ok is None:
        return f"<span class='quiet'>– {escaped(text)}</span>"
    return f"<span class='ok'>✓ {escaped(text)}</span>" if ok else f"<span class='bad'>✗ {escaped(text)}</span>"


class Demo(widgets.VBox):
    """One idea of the glossary, shown live with buttons and sliders only.

    A subclass names itself (`name`, `title`), says its idea (`idea`, two or three sentences of HTML),
    labels its main button (`action`), and implements controls(), begin(), run(), end() and draw().
    """

    name = ""
    title = ""
    idea = ""
    action = ""
    slow = False  # run() takes seconds: the button runs it in a thread and is disabled meanwhile

    def __init__(self):
        self.go = widgets.Button(description=self.action, button_style="primary", layout=WIDE,
                                 tooltip=self.action)  # fmt: skip
        self.reset_button = widgets.Button(description="Reset", layout=WIDE, tooltip="Back to the start")
        self.said = widgets.HTML()
        self.stage = widgets.HTML()
        self.generation = 0  # a run started before a reset draws nothing after it
        self._lock = threading.Lock()
        self.inputs = self.controls()
        self.go.on_click(lambda _: self.press())
        self.reset_button.on_click(lambda _: self._guarded(self.reset, "Resetting"))
        heading = widgets.HTML(f"{STYLE}<div class='wl-demo'><h1>{escaped(self.title)}</h1><p>{self.idea}</p></div>")
        parts = [heading, *([widgets.HBox(self.inputs)] if self.inputs else []), widgets.HBox([self.go, self.reset_button]),
                 self.said, self.stage]  # fmt: skip
        super().__init__(parts, layout=widgets.Layout(padding="8px 16px"))
        self.add_class("wl-demo-app")  # the style above reaches this demo's widgets only
        self.defaults = [control.value for control in self.inputs]
        self.begin()
        self.show("")

    # -- what a demo implements -------------------------------------------------------------------

    def controls(self) -> list[widgets.Widget]:
        """The sliders and toggles that set up the main action (none by default)."""
        return []

    def begin(self) -> None:
        """Start what the demo runs: its receiver and senders."""

    def end(self) -> None:
        """Stop what begin() started."""

    def run(self):
        """The main action; returns what happened, for tests."""
        raise NotImplementedError

    def draw(self) -> str:
        """The stage as HTML, from the state of what the demo runs."""
        return ""

    # -- shared -----------------------------------------------------------------------------------

    def show(self, said: str) -> None:
        """Say what just happened (HTML) and redraw the stage."""
        self._say(said)
        self.stage.value = f"<div class='wl-demo'>{self.draw()}</div>"

    def _say(self, said: str) -> None:
        self.said.value = f"<div class='wl-demo'><p class='wl-said' role='status'>{said}</p></div>"

    def press(self) -> None:
        """The main button: run(), in a thread if it is slow, with any error shown in the demo."""
        if not self.slow:
            self._guarded(self.run, self.action)
            return
        if self.go.disabled:
            return  # a second press while the first still runs
        self.go.disabled = True
        generation = self.generation

        def work():
            try:
                self._guarded(self.run, self.action, generation)
            finally:
                if generation == self.generation:
                    self.go.disabled = False

        threading.Thread(target=work, name=f"webhooklab-demo-{self.name}", daemon=True).start()

    def reset(self) -> None:
        """Back to the start: everything the demo runs is built again and every control goes back to its default."""
        with self._lock:
            self.generation += 1
            for control, value in zip(self.inputs, self.defaults):
                control.value = value  # first: what a control's observer does still acts on what is ended next
            self.end()
            self.begin()
            self.go.disabled = False
        self.show("Back to the start.")

    def current(self, generation: int) -> bool:
        """Whether a run that began in `generation` may still draw (no reset since)."""
        return generation == self.generation

    def close(self) -> None:
        """Stop what the demo runs, once (ipywidgets calls close() again when the widget is collected)."""
        if not getattr(self, "_closed", False):
            self._closed = True
            self.generation += 1
            self.end()
        super().close()

    def _guarded(self, action, doing: str, generation: int | None = None):
        try:
            return action()
        except Exception as error:  # noqa: BLE001 (shown in the demo: a presenter sees why, and can reset)
            if generation is not None and not self.current(generation):
                return None  # a run cut short by a reset: what it stopped on is not news
            self._say(error_html(error, doing=doing, todo="Press Reset to start the demo again."))
            return None


def toggles(description: str, options: list[tuple[str, object]]) -> widgets.ToggleButtons:
    """A row of buttons of which one is chosen: the demos' only kind of choice besides a slider."""
    return widgets.ToggleButtons(options=options, description=description,
                                 style={"description_width": "initial", "button_width": "max-content"})  # fmt: skip


def slider(description: str, value: int, low: int, high: int, step: int = 1) -> widgets.IntSlider:
    """A whole-number slider, wide enough to set by eye on a projector (and by arrow keys)."""
    return widgets.IntSlider(value=value, min=low, max=high, step=step, description=description, readout_format="d",
                             style={"description_width": "initial"}, layout=widgets.Layout(width="560px"))  # fmt: skip
