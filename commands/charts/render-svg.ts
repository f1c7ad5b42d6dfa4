/**
 * Charts for people, one way: Vega-Lite specifications rendered to SVG by Vega in Node (no browser, no canvas: Vega
 * estimates text widths, so a layout leaves room for labels rather than fitting them to the pixel). The bench, the
 * tuner and the cost advisor draw with it and share its look.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

const FONT = 'Helvetica, Arial, sans-serif';

/** The look every chart shares: pass as a specification's `config`. */
export const CHART_CONFIG = {
  font: FONT,
  background: '#ffffff',
  title: { anchor: 'start', fontSize: 15, subtitleFontSize: 11, subtitleColor: '#555555', subtitlePadding: 6, offset: 12 },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'right' },
  view: { stroke: '#999999' },
} as const;

/** Renders a Vega-Lite specification to an SVG document. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return `${await view.toSVG()}\n`;
  } finally {
    view.finalize();
  }
}

/**
 * Splits a caption into lines of at most `width` characters, at spaces, so that no title or subtitle runs past the
 * chart: Vega sizes the picture by its own estimate of text widths and does not wrap.
 */
export function wrapCaption(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}
