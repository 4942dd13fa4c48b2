import ApkReader from '@devicefarmer/adbkit-apkreader';

/** What installing needs from an APK: read from its binary AndroidManifest.xml. */
export interface ApkInfo {
  packageName: string;
  versionCode: number;
  versionName: string;
  /** Set on a split APK (`split="config.arm64_v8a"`); absent on a base APK. */
  split?: string;
}

/** Read an APK's manifest; throws an Error saying why when the file is not an APK. */
export async function readApk(file: string): Promise<ApkInfo> {
  const reader = await ApkReader.open(file);
  const manifest = await reader.readManifest();
  const packageName = manifest.package;
  if (typeof packageName !== 'string' || packageName === '') throw new Error('its manifest names no package');
  const versionCode = typeof manifest.versionCode === 'number' ? manifest.versionCode : 0;
  const versionName = manifest.versionName === undefined || manifest.versionName === null ? '' : String(manifest.versionName);
  const split = typeof manifest.split === 'string' && manifest.split !== '' ? manifest.split : undefined;
  return { packageName, versionCode, versionName, ...(split ? { split } : {}) };
}
