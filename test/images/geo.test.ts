// The run-geolambda images in a real Docker engine: GDAL's tools and bindings, PROJ, GEOS, rasterio, pyproj and
// shapely, driven by a deployed task as Cirrus tasks use them.
// Gap: the geo base is a Debian stand-in with Debian's GDAL stack where images/geo-base puts its own (support.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readMatrix } from '../../images/matrix.mjs';
import { createFunction, getJson, putObject } from '../integration/harness/fixtures.js';
import type { Harness } from '../integration/harness/index.js';
import type { ImageSet } from './images.js';
import { ranOn, runIn, skip, withImagesAndHarness } from './support.js';

const BUCKET = 'image-geo';

// Writes a GeoTIFF with rasterio (EPSG:4326), reprojects it with GDAL (gdalwarp through osgeo), reads it back.
const GEO_TASK = `import os, subprocess, tempfile
import numpy as np
import rasterio
from rasterio.transform import from_origin
from osgeo import gdal
from pyproj import Transformer
from shapely.geometry import box

def lambda_handler(event, context):
    d = tempfile.mkdtemp()
    src, dst = os.path.join(d, "in.tif"), os.path.join(d, "out.tif")
    data = (np.arange(64 * 64, dtype="uint16") % 251).reshape(64, 64)
    with rasterio.open(src, "w", driver="GTiff", width=64, height=64, count=1, dtype="uint16",
                       crs="EPSG:4326", transform=from_origin(10.0, 50.0, 0.01, 0.01)) as ds:
        ds.write(data, 1)
    gdal.UseExceptions()
    gdal.Warp(dst, src, dstSRS="EPSG:3857")
    with rasterio.open(dst) as ds:
        out = {"crs": ds.crs.to_epsg(), "width": ds.width, "bands": ds.count, "max": int(ds.read(1).max())}
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(10.0, 50.0)
    cli = subprocess.run(["gdalinfo", "-json", dst], capture_output=True, text=True, check=True)
    return {**out, "x": round(x), "y": round(y), "area": box(0, 0, 2, 3).area,
            "gdal": gdal.__version__, "gdalinfo_ok": '"EPSG",3857' in cli.stdout.replace(" ", "") or "3857" in cli.stdout,
            "event": event}
`;

let h: Harness;
let set: ImageSet;
withImagesAndHarness({ bucket: BUCKET }, (started) => {
  ({ h, set } = started);
});

for (const entry of readMatrix().images.filter((e) => e.flavour === 'geolambda')) {
  test(`run-geolambda ${entry.runtime}: gdalinfo --version, and GDAL_DATA, PROJ_DATA, PROJ_LIB are folders`, {
    skip,
  }, async (t) => {
    const image = set.get('geolambda', entry.runtime);
    t.diagnostic(ranOn(image));
    const r = await runIn(image, [
      'sh',
      '-c',
      'gdalinfo --version && test -d "$GDAL_DATA/" && test -d "$PROJ_DATA/" && test -d "$PROJ_LIB/" && test -f "$PROJ_DATA/proj.db" && echo "$GDAL_DATA $PROJ_DATA $PROJ_LIB"',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^GDAL \d+\.\d+\.\d+/);
    assert.match(r.stdout, /\/usr\/local\/share\/gdal \/usr\/local\/share\/proj \/usr\/local\/share\/proj/);
    t.diagnostic(r.stdout.split('\n')[0] ?? '');
  });

  test(`run-geolambda ${entry.runtime}: a task writes a GeoTIFF with rasterio and reprojects it with GDAL`, {
    skip,
  }, async (t) => {
    const image = set.get('geolambda', entry.runtime);
    t.diagnostic(ranOn(image));
    const fn = `geo-task-${entry.runtime.replace('.', '')}`;
    await createFunction(h, { name: fn, runtime: entry.runtime, files: { 'lambda_function.py': GEO_TASK } });
    await putObject(h, BUCKET, `${fn}.json`, { scene: 'S2A' });
    const r = await runIn(image, ['run', fn, `s3://${BUCKET}/${fn}.json`, `s3://${BUCKET}/${fn}_out.json`], {
      env: h.env,
    });
    assert.equal(r.code, 0, r.stderr);
    const out = (await getJson(h, BUCKET, `${fn}_out.json`)) as Record<string, unknown>;
    assert.equal(out.crs, 3857);
    assert.equal(out.bands, 1);
    assert.equal(out.max, 250);
    assert.ok(Number(out.width) > 0);
    assert.deepEqual([out.x, out.y], [1113195, 6446276]);
    assert.equal(out.area, 6);
    assert.equal(out.gdalinfo_ok, true);
    assert.deepEqual(out.event, { scene: 'S2A' });
    t.diagnostic(`GDAL ${out.gdal} (Python bindings)`);
  });
}
