// Renders public/icon.svg into the raster icons beside it (favicon.ico with 16, 32 and 48 px
// images, apple-touch-icon.png at 180 px) with the Chromium the browser tests use. Run after
// changing the SVG: npx tsx scripts/render-icons.ts
import fs from "node:fs";
import path from "node:path";
import { chromium } from "@playwright/test";
import { getConfig } from "../lib/config";

const dir = path.resolve(__dirname, "../public");

async function main(): Promise<void> {
  const svg = fs.readFileSync(path.join(dir, "icon.svg"), "utf8");
  const browser = await chromium.launch({ executablePath: getConfig().CHROMIUM_PATH, args: ["--no-sandbox"] });
  const render = async (size: number): Promise<Buffer> => {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    await page.setContent(`<html><body style="margin:0;background:transparent"><img width="${size}" height="${size}" src="data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}"></body></html>`);
    const png = await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
    await page.close();
    return png;
  };
  try {
    const sizes = [16, 32, 48];
    const images = await Promise.all(sizes.map(render));
    // ICO: a 6-byte header, a 16-byte entry per image, then the images (PNG is allowed inside).
    const header = Buffer.alloc(6 + 16 * images.length);
    header.writeUInt16LE(1, 2);
    header.writeUInt16LE(images.length, 4);
    let offset = header.length;
    images.forEach((png, i) => {
      const entry = 6 + 16 * i;
      header.writeUInt8(sizes[i]!, entry);
      header.writeUInt8(sizes[i]!, entry + 1);
      header.writeUInt16LE(1, entry + 4);
      header.writeUInt16LE(32, entry + 6);
      header.writeUInt32LE(png.length, entry + 8);
      header.writeUInt32LE(offset, entry + 12);
      offset += png.length;
    });
    fs.writeFileSync(path.join(dir, "favicon.ico"), Buffer.concat([header, ...images]));
    fs.writeFileSync(path.join(dir, "apple-touch-icon.png"), await render(180));
  } finally {
    await browser.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
