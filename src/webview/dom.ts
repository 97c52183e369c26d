/**
 * The only way the UI builds DOM: text goes through textContent and attributes through
 * setAttribute, so a function name, an exception message or printed output containing
 * `<img onerror=…>` or `</script>` is shown as text and never parsed as HTML.
 */
export type Child = Node | string | number | null | undefined | false | Child[];

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | null | undefined | ((e: Event) => void)> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') {
      el.addEventListener(key.replace(/^on/, '').toLowerCase(), value);
    } else if (key === 'style') {
      throw new Error('use classes: style attributes are blocked by the CSP');
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** A codicon glyph, hidden from screen readers (the text next to it says the same). */
export function icon(name: string): HTMLElement {
  return h('span', { class: `codicon codicon-${name}`, 'aria-hidden': 'true' });
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/**
 * The glyph beside a run's progress line: still, not spinning. A spinning glyph repaints
 * the page every frame for the whole run, and that CPU showed as "other processes" in the
 * windows being measured (issue 16).
 */
export function progressIcon(): HTMLElement {
  return icon('loading');
}
