import { addonPath, loadNative, RecorderUnavailableError, type NativeBinding } from '../native/index.js';
import { EPB_LAYOUT } from './pcapng/blocks.js';

/**
 * The addon as the recorder uses it. The drain thread writes EPBs into the files whose other blocks
 * recorder/pcapng writes: an addon built against another layout would write corrupt files, so it is
 * refused here, on every load, not only in a test.
 */
export function loadRecorderNative(): NativeBinding {
  const native = loadNative();
  const epb = native.epbLayout();
  const keys = Object.keys(EPB_LAYOUT) as (keyof typeof EPB_LAYOUT)[];
  const differs = keys.filter((k) => epb[k] !== EPB_LAYOUT[k]);
  if (differs.length > 0 || Object.keys(epb).length !== keys.length) {
    throw new RecorderUnavailableError(
      `the recorder addon ${addonPath()} lays out EPBs differently from recorder/pcapng (${differs.join(', ') || 'other fields'}); rebuild it: npm run build:native`,
    );
  }
  return native;
}
