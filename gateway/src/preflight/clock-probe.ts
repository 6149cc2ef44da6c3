/**
 * `timedatectl show -p NTPSynchronized --value` (systemd-timedated; works with
 * systemd-timesyncd and chrony): `yes` / `no`. Null when there is no timedatectl or no
 * systemd to answer it (containers, CI), so the caller falls back to the cloud's clock.
 */
import { execFile } from 'node:child_process';

export function ntpSynchronized(timeoutMs = 3_000): Promise<boolean | null> {
  return new Promise((resolve) => {
    execFile('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { timeout: timeoutMs }, (err, stdout) => {
      if (err !== null) return resolve(null);
      const v = stdout.trim();
      resolve(v === 'yes' ? true : v === 'no' ? false : null);
    });
  });
}
