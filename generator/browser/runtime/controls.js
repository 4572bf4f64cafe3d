// LabPress widget runtime: a widget's controls on the page. The form's sliders, toggles,
// choices, point fields and seed buttons, and the point handles in the SVG (pointer dragging
// and arrow keys): their events become widget.set(name, value), and the widget's state is put
// back into them. A slider whose thumb is held follows the pointer's raw updates (the browser's own
// value comes a frame later). The rules (what a value means, where a key moves a point, where a
// pointer puts a slider) are contract.js's and frames.js's.
//
// Nothing runs at import. A Controls is made per widget, which gives it figure, form, stage, id,
// controls, byName, state (read afresh each time: the widget may replace it), unavailable,
// set(name, value) and prepare().

import {
  choicePicks, choiceValue, keyedPoint, nextSeed, pointField, pointOf, sliderSuffix, snapPoint, stateFromForm, typedPoint,
} from "./contract.js";
import { RANGE_THUMB_PX, rangeValueAt, readScale, tidy } from "./frames.js";

const HANDLE_HELP = "Drag the point, or use the arrow keys to move it (hold Shift for bigger steps). " +
  "The x and y fields with the controls set it exactly.";
// What the runtime writes on a kernel's handle (decorateHandles): a new frame leaves these alone.
const HANDLE_OWN = new Set(["role", "aria-roledescription", "aria-describedby", "tabindex", "aria-disabled", "data-label"]);

// Range inputs whose drag the browser drew otherwise than rangeValueAt (a restyled thumb, a zoomed
// page, another engine): their drags are left to the browser from then on.
const unlike = new WeakSet();
const HELD_SLIDER = "onpointerrawupdate" in globalThis ? "pointerrawupdate" : "pointermove";

const isHandle = (el) => el.localName === "circle" && el.classList.contains("lp-handle") && el.hasAttribute("data-control");

/** Set an attribute only when it differs: an unchanged write still restyles the element. */
function put(el, name, value) {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

export class Controls {
  constructor(widget) {
    this.widget = widget;
    this.form = widget.form;
    this.stage = widget.stage;
    this.drag = null;
    this.handlesMoved = false; // handles sit where the reader put them, not where the kernel drew them
    this.keep = (el, name, value) => this.keepAttribute(el, name, value); // patch.js's keep
    this.staleFields = null; // a point control whose x and y fields wait for the next pointermove
    this.onMove = (event) => this.onPointerMove(event);
    this.slide = null; // a slider's thumb held with a pointer (onSliderDown)
    this.onSlideMove = (event) => this.onSliderMove(event);
    this.onSlideEnd = (event) => this.endSlide(event);

    // The build's frame is not read back (serialising a large figure is not free): only where it
    // drew the handles is kept.
    this.builtHandles = this.handles().map((h) => [h, h.getAttribute("cx"), h.getAttribute("cy")]);
    this.sliderSuffix = new Map(); // keeps the build's own "value unit" spelling
    for (const control of widget.controls) {
      if (control.kind !== "slider") continue;
      const input = this.inputs(control.name)[0];
      const output = input && this.outputFor(input);
      this.sliderSuffix.set(control.name, sliderSuffix(control, output?.textContent));
    }

    // A handle is described by the build's hint next to its x/y fields, else by a hidden note of ours.
    this.helpIds = new Map();
    for (const control of widget.controls) {
      if (control.kind !== "point") continue;
      let id = `${widget.id}-${control.name}-hint`;
      if (!document.getElementById(id)) {
        id = `${widget.id}-${control.name}-handle-help`;
        const help = document.createElement("span");
        help.id = id;
        help.hidden = true; // still read through aria-describedby
        help.textContent = HANDLE_HELP;
        widget.figure.append(help);
      }
      this.helpIds.set(control.name, id);
    }
  }

  // ------------------------------------------------ form controls

  inputs(name) {
    if (!this.form) return [];
    return [...this.form.querySelectorAll("[data-control]")].filter((el) => el.dataset.control === name);
  }

  outputFor(input) {
    const figure = this.widget.figure;
    if (input.id) {
      for (const output of figure.querySelectorAll("output.control-value[for]")) {
        if (output.htmlFor.contains(input.id)) return output;
      }
    }
    for (let el = input.parentElement; el && el !== this.form && el !== figure; el = el.parentElement) {
      const output = el.querySelector("output.control-value");
      if (output) return output;
    }
    return null;
  }

  showSliderValue(name, input) {
    const output = this.outputFor(input);
    if (output) output.textContent = input.value + (this.sliderSuffix.get(name) || "");
  }

  /** Controls data-state leaves out take the value the build wrote into the form. */
  fillState() {
    stateFromForm(this.widget.controls, this.widget.state, (name) => this.inputs(name));
  }

  /** Put the widget's state into every form control. */
  sync() {
    const state = this.widget.state;
    this.staleFields = null;
    for (const control of this.widget.controls) {
      const value = state[control.name];
      if (value === undefined) continue;
      for (const input of this.inputs(control.name)) {
        if (control.kind === "slider") {
          input.value = String(value);
          this.showSliderValue(control.name, input);
        } else if (control.kind === "toggle") {
          input.checked = Boolean(value);
        } else if (control.kind === "choice") {
          const picks = choicePicks(control, input.value, value);
          if (picks !== null) input.checked = picks;
        } else if (control.kind === "point") {
          this.writePointInput(input, value);
        } else if (control.kind === "seed") {
          input.value = String(value);
        }
      }
    }
  }

  writePointInput(input, point) {
    const field = pointField(input.dataset.axis, point);
    if (field !== undefined) input.value = field;
  }

  /** Every form control off, for good (live updates are unavailable). */
  lock() {
    for (const el of this.form?.querySelectorAll("input, button, select, textarea") || []) el.disabled = true;
  }

  bind() {
    // What wakes the widget (a press, the focus, a resting pointer) is widget.js's bindIntent.
    if (this.form) {
      this.form.addEventListener("submit", (event) => event.preventDefault()); // when it is a <form>
      this.form.addEventListener("input", (event) => this.onFormInput(event.target, event));
      this.form.addEventListener("change", (event) => this.onFormChange(event.target));
      this.form.addEventListener("pointerdown", (event) => this.onSliderDown(event));
      this.form.addEventListener("click", (event) => {
        const button = event.target.closest?.("button[data-control]");
        if (button && this.form.contains(button)) this.onSeed(button);
      });
      // The build writes the controls off, with a note, for a page without scripts: they work now.
      this.form.disabled = false;
      for (const note of this.widget.figure.querySelectorAll(".widget-nojs")) note.hidden = true;
    }
    if (this.stage) {
      this.stage.addEventListener("pointerdown", (event) => this.onPointerDown(event));
      this.stage.addEventListener("pointermove", this.onMove);
      for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
        this.stage.addEventListener(type, (event) => this.endDrag(event));
      }
      this.stage.addEventListener("keydown", (event) => this.onHandleKey(event));
    }
  }

  onFormInput(target, event) {
    const w = this.widget;
    const name = target?.dataset?.control;
    const control = w.byName.get(name);
    if (!control || w.unavailable) return;
    if (control.kind === "slider" && target.type === "range") {
      if (event?.isTrusted && this.slide?.input === target) this.browserMoved(target);
      const value = Number(target.value);
      if (!Number.isFinite(value)) return;
      this.showSliderValue(name, target);
      if (w.state[name] !== value) w.set(name, value); // the same value again (a held thumb's) asks for nothing
    } else if (control.kind === "point" && target.type === "number") {
      const typed = target.valueAsNumber;
      if (!Number.isFinite(typed)) return; // half-typed: wait for more
      w.set(name, typedPoint(control, pointOf(control, w.state), target.dataset.axis, typed));
    }
  }

  onFormChange(target) {
    const w = this.widget;
    const name = target?.dataset?.control;
    const control = w.byName.get(name);
    if (!control || w.unavailable) return;
    if (control.kind === "toggle") {
      w.set(name, Boolean(target.checked));
    } else if (control.kind === "choice" && target.checked) {
      w.set(name, choiceValue(control, Number(target.value), target.dataset.value));
    } else if (control.kind === "point") {
      this.writePointInput(target, w.state[name]); // show the clamped value once typing is done
    }
  }

  onSeed(button) {
    const w = this.widget;
    const control = w.byName.get(button.dataset.control);
    if (!control || control.kind !== "seed" || w.unavailable) return;
    const next = nextSeed(control, button.value, w.state[control.name]);
    button.value = String(next);
    w.set(control.name, next);
  }

  // ------------------------------------------------ a slider's thumb held with a pointer

  /**
   * A press on a slider (its thumb or its track) with the primary button. The browser keeps doing
   * all it does (the focus, a press on the track moving the thumb there, the keyboard, what
   * assistive technology reads); only while the pointer stays down does the runtime also put the
   * value where the pointer is, from each raw pointer update, as the browser itself would at the
   * next frame (rangeValueAt), and send it on as the browser's `input` event would. The browser then
   * finds the value already there and sends nothing more.
   */
  onSliderDown(event) {
    const input = event.target;
    const control = input?.type === "range" ? this.widget.byName.get(input.dataset?.control) : null;
    if (!control || control.kind !== "slider" || this.widget.unavailable || input.disabled) return;
    if (!event.isPrimary || event.button !== 0 || unlike.has(input)) return;
    const track = this.sliderTrack(input);
    if (!track) return;
    this.releaseSlide();
    const attributes = {};
    for (const name of ["min", "max", "step", "value"]) attributes[name] = input.getAttribute(name);
    // `start`: the value a change event compares with (a press on the track moves the thumb after this).
    this.slide = { pointerId: event.pointerId, input, track, attributes, start: input.value, set: null, x: null,
      browser: false };
    window.addEventListener(HELD_SLIDER, this.onSlideMove, { passive: true });
    for (const type of ["pointerup", "pointercancel"]) window.addEventListener(type, this.onSlideEnd, { passive: true });
  }

  /**
   * Where the slider's track is on screen, read once per drag: its content box, or null when the
   * runtime would not know where the browser puts the thumb (a restyled thumb, a vertical slider, a
   * transformed or zoomed input).
   */
  sliderTrack(input) {
    const style = getComputedStyle(input);
    if (!["auto", "slider-horizontal"].includes(style.appearance || style.webkitAppearance)) return null;
    if (!String(style.writingMode).startsWith("horizontal")) return null;
    const box = input.getBoundingClientRect();
    const px = (name) => Number.parseFloat(style.getPropertyValue(name)) || 0;
    const insetLeft = px("border-left-width") + px("padding-left");
    const insets = insetLeft + px("border-right-width") + px("padding-right");
    const width = px("width") - (style.boxSizing === "border-box" ? insets : 0);
    if (!(width > 0) || Math.abs(width + insets - box.width) > 0.05) return null; // scaled: not the layout's pixels
    return { left: box.left + insetLeft, width, thumb: RANGE_THUMB_PX, rtl: style.direction === "rtl" };
  }

  onSliderMove(event) {
    const slide = this.slide;
    if (!slide || event.pointerId !== slide.pointerId) return;
    if (!(event.buttons & 1)) { // let go where the page did not see it (outside the window, say)
      this.endSlide(event);
      return;
    }
    if (this.widget.unavailable || slide.input.disabled) return;
    const value = rangeValueAt(event.clientX, slide.track, slide.attributes);
    slide.x = event.clientX;
    if (value === null || value === slide.input.value) return;
    slide.input.value = value;
    slide.set = slide.input.value;
    // What the browser's own event would do, now: the value shown, the state set, the frame asked for.
    slide.input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  /**
   * The browser moved a held thumb itself (its own `input` event). After a value of the runtime's,
   * it means the browser saw the pointer elsewhere than rangeValueAt: the rest of the drag, and
   * the input's later drags, are the browser's.
   */
  browserMoved(input) {
    const slide = this.slide;
    slide.browser = true; // the browser sends its own change event at the release
    if (slide.set === null || slide.x === null) return; // the press itself (on the track)
    if (input.value === rangeValueAt(slide.x, slide.track, slide.attributes)) return;
    unlike.add(input);
    window.removeEventListener(HELD_SLIDER, this.onSlideMove);
    slide.set = null;
  }

  endSlide(event) {
    const slide = this.slide;
    if (!slide || event.pointerId !== slide.pointerId) return;
    this.releaseSlide();
    // A value set by script is no change of the reader's, so when the browser set none of its own
    // during the press (as it does for a press on the track), it sends no change event at the
    // release: the runtime sends it, as the browser would have.
    const input = slide.input;
    if (slide.set !== null && !slide.browser && input.value !== slide.start) {
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  releaseSlide() {
    if (!this.slide) return;
    window.removeEventListener(HELD_SLIDER, this.onSlideMove);
    for (const type of ["pointerup", "pointercancel"]) window.removeEventListener(type, this.onSlideEnd);
    this.slide = null;
  }

  // ------------------------------------------------ point handles (pointer + keyboard)

  svg() {
    return this.stage?.querySelector("svg") || null;
  }

  handles() {
    return this.stage ? [...this.stage.querySelectorAll("circle.lp-handle[data-control]")] : [];
  }

  /** Make the kernel's markers operable: focusable, labelled, described. Runs after every frame swap. */
  decorateHandles() {
    const w = this.widget;
    for (const handle of this.handles()) {
      const control = w.byName.get(handle.dataset.control);
      if (!control || control.kind !== "point") continue;
      const base = handle.dataset.label || handle.getAttribute("aria-label") || control.label || control.name;
      put(handle, "data-label", base);
      put(handle, "role", "button");
      put(handle, "aria-roledescription", "draggable point");
      put(handle, "aria-describedby", this.helpIds.get(control.name) || "");
      if (w.unavailable) {
        handle.removeAttribute("tabindex");
        put(handle, "aria-disabled", "true");
      } else {
        put(handle, "tabindex", "0");
      }
      this.labelHandle(handle, pointOf(control, w.state));
      if (this.drag && this.drag.name === control.name && !handle.classList.contains("is-dragging")) {
        handle.classList.add("is-dragging");
      }
    }
  }

  /**
   * patch.js's `keep`: a new frame leaves what the runtime wrote on a handle as it is (its role,
   * focusability, label, the is-dragging class), so a handle held or focused stays as it was. The
   * kernel's own label for it (aria-label in the frame) becomes the base of the runtime's label.
   */
  keepAttribute(el, name, value) {
    if (!isHandle(el)) return false;
    if (name === "aria-label") {
      if (value !== null && value !== el.dataset.label) el.dataset.label = value;
      return true;
    }
    if (name === "class") {
      const own = [...el.classList].filter((c) => c !== "is-dragging").join(" ");
      return value !== null && own === value.trim().split(/\s+/).join(" ");
    }
    return HANDLE_OWN.has(name);
  }

  labelHandle(handle, point) {
    put(handle, "aria-label", `${handle.dataset.label}: x ${tidy(point[0])}, y ${tidy(point[1])}`);
  }

  /** The control of the handle that has the focus, if one has. */
  focusedHandle() {
    return this.handles().find((h) => h === document.activeElement)?.dataset.control;
  }

  /** A handle the kernel drew anew (not patched in place) takes the focus back. */
  refocus(name) {
    if (name && document.activeElement?.dataset?.control !== name) {
      this.handles().find((h) => h.dataset.control === name)?.focus({ preventScroll: true });
    }
  }

  /** Move the handles of these point controls to the state's point, ahead of the kernel's next frame. */
  placeHandles(names) {
    const w = this.widget;
    const svg = this.svg();
    const sx = readScale(svg, "x");
    const sy = readScale(svg, "y");
    if (!sx || !sy) return;
    for (const handle of this.handles()) {
      const control = w.byName.get(handle.dataset.control);
      if (!control || control.kind !== "point" || !Array.isArray(w.state[control.name])) continue;
      if (names && !names.includes(control.name)) continue;
      const [x, y] = pointOf(control, w.state);
      handle.setAttribute("cx", String(tidy(sx.toPixel(x))));
      handle.setAttribute("cy", String(tidy(sy.toPixel(y))));
      this.labelHandle(handle, [x, y]);
      this.handlesMoved = true;
    }
  }

  /**
   * The point control takes `point`; `fields: false` leaves its x and y fields for later (a raw
   * pointer update: the pointermove of the same frame writes them, once per frame).
   */
  setPoint(control, point, { fields = true } = {}) {
    const old = this.widget.state[control.name];
    const same = Array.isArray(old) && old[0] === point[0] && old[1] === point[1];
    if (fields && (!same || this.staleFields === control.name)) {
      for (const input of this.inputs(control.name)) this.writePointInput(input, point);
      this.staleFields = null;
    } else if (!fields && !same) {
      this.staleFields = control.name;
    }
    if (!same) this.widget.set(control.name, point);
  }

  onPointerDown(event) {
    const w = this.widget;
    const handle = event.target.closest?.("circle.lp-handle[data-control]");
    const control = handle && w.byName.get(handle.dataset.control);
    if (!control || control.kind !== "point" || w.unavailable) return;
    if (event.pointerType === "mouse" && event.button !== 0) return;
    event.preventDefault(); // no text selection, no scrolling from this touch
    handle.focus({ preventScroll: true });
    // Capture on the stage, not the circle: the circle is replaced by every new frame.
    try {
      this.stage.setPointerCapture(event.pointerId);
    } catch {
      /* pointer already gone */
    }
    this.releaseDrag(); // a second pointer takes the drag over
    this.drag = { pointerId: event.pointerId, name: control.name, dx: 0, dy: 0, toSvg: null };
    const at = this.clientToSvg(event);
    const cx = Number(handle.getAttribute("cx"));
    const cy = Number(handle.getAttribute("cy"));
    if (at && Number.isFinite(cx)) this.drag.dx = cx - at.x;
    if (at && Number.isFinite(cy)) this.drag.dy = cy - at.y;
    // Where the SVG is on screen is read once per drag (reading it would lay out the page after each
    // new frame), and again after a scroll or a resize, or a frame that changes the SVG's own attributes.
    this.drag.forget = () => { if (this.drag) this.drag.toSvg = null; };
    window.addEventListener("scroll", this.drag.forget, { passive: true, capture: true });
    window.addEventListener("resize", this.drag.forget, { passive: true });
    // While a handle is held it takes each pointer position as soon as the browser has it:
    // pointerrawupdate comes as a task of its own, while pointermove waits for the next animation
    // frame, so a state sent from pointermove could only be drawn a frame later. Listened to during
    // a drag only (the browser sends raw updates for the whole page while anyone listens). Where
    // there is none (an insecure context, another browser) pointermove moves the handle; where both
    // come, the second finds the point already set and does nothing.
    if ("onpointerrawupdate" in window) this.stage.addEventListener("pointerrawupdate", this.onMove);
    handle.classList.add("is-dragging");
    w.figure.classList.add("is-dragging");
    w.prepare();
  }

  /** The frame on screen has changed the SVG element itself (its viewBox, say): its place is read afresh. */
  svgChanged() {
    if (this.drag) this.drag.toSvg = null;
  }

  clientToSvg(event) {
    let m = this.drag?.toSvg;
    if (!m) {
      const ctm = this.svg()?.getScreenCTM();
      if (!ctm) return null;
      m = ctm.inverse();
      if (this.drag) this.drag.toSvg = m;
    }
    const { clientX: x, clientY: y } = event;
    return { x: m.a * x + m.c * y + m.e, y: m.b * x + m.d * y + m.f };
  }

  onPointerMove(event) {
    if (!this.drag || event.pointerId !== this.drag.pointerId) return;
    const control = this.widget.byName.get(this.drag.name);
    const svg = this.svg();
    const sx = readScale(svg, "x");
    const sy = readScale(svg, "y");
    const at = this.clientToSvg(event);
    if (!control || !sx || !sy || !at) return;
    const point = snapPoint(control, sx.toData(at.x + this.drag.dx), sy.toData(at.y + this.drag.dy));
    // Nothing is sent when the point is where it was; the channel sends only the latest state.
    this.setPoint(control, point, { fields: event.type !== "pointerrawupdate" });
  }

  endDrag(event) {
    if (!this.drag || event.pointerId !== this.drag.pointerId) return;
    const control = this.widget.byName.get(this.drag.name);
    if (control && this.staleFields === control.name) this.setPoint(control, pointOf(control, this.widget.state));
    this.releaseDrag();
    this.widget.figure.classList.remove("is-dragging");
    for (const handle of this.handles()) handle.classList.remove("is-dragging");
  }

  releaseDrag() {
    if (!this.drag) return;
    window.removeEventListener("scroll", this.drag.forget, { capture: true });
    window.removeEventListener("resize", this.drag.forget);
    this.stage.removeEventListener("pointerrawupdate", this.onMove);
    this.drag = null;
  }

  onHandleKey(event) {
    const w = this.widget;
    const handle = event.target.closest?.("circle.lp-handle[data-control]");
    const control = handle && w.byName.get(handle.dataset.control);
    if (!control || control.kind !== "point" || w.unavailable) return;
    const svg = this.svg();
    const point = keyedPoint(control, pointOf(control, w.state), event.key, event,
      readScale(svg, "x")?.direction ?? 1, readScale(svg, "y")?.direction ?? -1); // SVG y grows downwards
    if (!point) return;
    event.preventDefault();
    this.setPoint(control, point);
    w.prepare();
  }
}
