// Building DOM nodes in the pages' ES modules (charts.js builds SVG the same way).
//
//   el('td', { class: 'num', text: '3', 'data-song': 7 }, child, 'text child')
// "class" sets className, "text" the text content, any other key an attribute (null / undefined are
// left out); null / undefined children are skipped.
export function el (tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v
    else if (k === 'text') node.textContent = v
    else if (v != null) node.setAttribute(k, v)
  }
  for (const child of children) if (child != null) node.append(child)
  return node
}
