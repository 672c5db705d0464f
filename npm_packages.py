"""Set-up only: a pinned npm package's tarball, fetched with `npm pack` into a temporary folder (npm's cache
there too, so nothing is left behind). Used by scripts/install_npm_fonts.py and
scripts/install_tessdata_best.py; nothing is fetched at run time."""
import json
import os
import re
import subprocess

NPM_TIMEOUT_S = 300
NETWORK_ERROR = 'network error'


class NpmError(Exception):
    """A package npm could not fetch; the message is the reason, one line."""


def npm_pack(spec, work_dir, npm='npm'):
    """The tarball of `spec` (e.g. `@fontsource/gaegu@5.3.0`), fetched into work_dir."""
    env = dict(os.environ, npm_config_cache=str(work_dir / 'npm-cache'), npm_config_update_notifier='false',
               npm_config_fund='false', npm_config_audit='false')
    try:
        result = subprocess.run([npm, 'pack', spec, '--json', '--pack-destination', str(work_dir)], env=env,
                                capture_output=True, text=True, timeout=NPM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise NpmError(f'npm pack timed out after {NPM_TIMEOUT_S} s') from None
    if result.returncode != 0:
        raise NpmError(npm_failure(result.stderr))
    try:
        return work_dir / json.loads(result.stdout)[0]['filename']
    except (ValueError, LookupError, TypeError):
        raise NpmError('npm pack gave no tarball name') from None


def npm_failure(stderr):
    code = re.search(r'npm (?:error|ERR!) code (\S+)', stderr)
    code = code.group(1) if code else 'unknown'
    if code == 'E404':
        return 'not on npm (E404)'
    if code in ('ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ENETUNREACH'):
        return f'{NETWORK_ERROR} ({code})'
    if code == 'ETARGET':
        return 'pinned version not on npm (ETARGET)'
    return f'npm pack failed ({code})'
