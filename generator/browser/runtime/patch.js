// LabPress widget runtime: putting a frame (SVG, readouts, caption) into a figure on the page.
//
// A new frame is parsed off the page (in a template: no style, no layout) and the figure on the
// page is then changed only where the two differ. Most of a figure stays the same from one frame
// to the next (axes, grid, ticks, labels), so the browser restyles and re-lays-out a few shapes
// instead of a whole new SVG, and the elements a reader is holding (a focused or hovered handle)
// stay the same elements. The result is the same tree as setting innerHTML.
//
// Nothing runs at import: the template is made on first use.

let parser = null;

function sameAttributes(live, fresh) {
  for (const attr of [...live.attributes]) {
    if (!fresh.hasAttributeNS(attr.namespaceURI, attr.localName)) live.removeAttributeNS(attr.namespaceURI, attr.localName);
  }
  for (const attr of fresh.attributes) {
    if (live.getAttributeNS(attr.namespaceURI, attr.localName) !== attr.value) {
      live.setAttributeNS(attr.namespaceURI, attr.name, attr.value);
    }
  }
}

function sameChildren(live, fresh) {
  const want = [...fresh.childNodes];
  const have = [...live.childNodes];
  want.forEach((node, i) => {
    const old = have[i];
    if (old && old.nodeType === node.nodeType && old.nodeName === node.nodeName && old.namespaceURI === node.namespaceURI) {
      if (node.nodeType === Node.ELEMENT_NODE) {
        sameAttributes(old, node);
        sameChildren(old, node);
      } else if (old.nodeValue !== node.nodeValue) {
        old.nodeValue = node.nodeValue;
      }
    } else if (old) {
      live.replaceChild(node, old); // the parsed node itself: the template's tree is thrown away
    } else {
      live.appendChild(node);
    }
  });
  for (let i = have.length - 1; i >= want.length; i--) have[i].remove();
}

/** Make `container`'s content equal to `markup`, as container.innerHTML = markup would. */
export function patchMarkup(container, markup) {
  parser ??= document.createElement("template");
  parser.innerHTML = markup;
  sameChildren(container, parser.content);
  parser.innerHTML = "";
}

/** Write a frame's readouts into the figure's output[data-readout] elements that it names. */
export function showReadouts(outputs, readouts) {
  for (const output of outputs) {
    const name = output.dataset.readout;
    if (Object.hasOwn(readouts, name) && output.textContent !== readouts[name]) output.textContent = readouts[name];
  }
}

/** Write a frame's caption, when it has one, into the figure's caption element. */
export function showCaption(element, caption) {
  if (element && typeof caption === "string" && element.textContent !== caption) element.textContent = caption;
}
