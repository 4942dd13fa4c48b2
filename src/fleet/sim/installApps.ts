import type { ApkInfo } from '../apk.js';
import type { SimPhone } from './android.js';

/**
 * What Android's package manager checks before it installs one app from a base APK and its splits:
 * one package name throughout, exactly one base, and no lower version than the one installed unless
 * a downgrade is allowed. Answers why it refused (the text between `Failure [` and `]`), or
 * undefined once the app is installed with its splits.
 */
export async function installApps(phone: SimPhone, infos: readonly ApkInfo[], allowDowngrade: boolean): Promise<string | undefined> {
  const other = infos.find((i) => i.packageName !== infos[0]?.packageName);
  if (other) return `INSTALL_FAILED_INVALID_APK: Split ${other.split ?? 'base'} has inconsistent package name ${other.packageName}`;
  const bases = infos.filter((i) => !i.split);
  if (bases.length !== 1) return `INSTALL_FAILED_INVALID_APK: ${bases.length ? 'More than one base APK' : 'Full install must include a base package'}`;
  const base = bases[0]!;
  const current = await phone.installed(base.packageName);
  if (current && !current.system && current.versionCode > base.versionCode && !allowDowngrade) return 'INSTALL_FAILED_VERSION_DOWNGRADE';
  await phone.install({ ...base, splits: infos.flatMap((i) => (i.split ? [i.split] : [])) });
  return undefined;
}
