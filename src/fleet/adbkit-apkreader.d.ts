/** The part of @devicefarmer/adbkit-apkreader OpenCPH uses (the package ships no types). */
declare module '@devicefarmer/adbkit-apkreader' {
  interface Manifest {
    package?: string;
    versionCode?: number;
    versionName?: string | number | null;
    split?: string;
    [attribute: string]: unknown;
  }
  interface ApkReader {
    readManifest(): Promise<Manifest>;
  }
  const ApkReader: {
    open(file: string | Buffer): Promise<ApkReader>;
  };
  export default ApkReader;
}
