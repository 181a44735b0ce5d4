// `atlas386 compare --plot FILE.svg`: page faults against memory size, one
// line per policy and one for OPT, drawn by Vega-Lite and rendered to SVG by
// Vega's headless view (renderer 'none': no canvas and no browser needed;
// text widths are estimated). The libraries are loaded only when a plot is
// asked for, so the other commands do not pay for them.

export interface FaultPoint {
  /** Memory size in MiB. */
  mib: number;
  /** A policy name, or "OPT". */
  policy: string;
  faults: number;
}

/** The Vega-Lite specification of the chart (exported for the tests). */
export function faultChartSpec(points: FaultPoint[], title: string): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 480,
    height: 300,
    background: 'white',
    data: { values: points },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'mib', type: 'quantitative', title: 'Memory (MiB)', scale: { zero: false } },
      y: { field: 'faults', type: 'quantitative', title: 'Page faults (minor + major; OPT: Belady)' },
      color: { field: 'policy', type: 'nominal', title: 'Policy', sort: null },
    },
  };
}

/** The chart as an SVG document. */
export async function renderFaultChart(points: FaultPoint[], title: string): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vegaLite.compile(faultChartSpec(points, title) as unknown as Parameters<typeof vegaLite.compile>[0]);
  const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
