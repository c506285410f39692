"""Compile a windows bundle into one PowerShell script (Windows PowerShell 5.1+).

Sent on stdin to ``powershell -NoProfile -NonInteractive -Command -``. That mode
reads stdin like an interactive prompt, statement by statement, and a blank line
ends a multi-line statement early (PowerShell/PowerShell#3223). So, as the
PowerShell maintainers advise there, the whole script is ONE statement,
``& { ... }``, with no blank line inside and two newlines after it. We avoid
``-EncodedCommand`` on purpose: endpoint protection often flags it.

The console decodes stdin with the OEM code page, so the text we send is pure
ASCII: each check's script travels base64-encoded (UTF-8) and is repeated in
comment lines (non-ASCII escaped) so the audit log shows what ran.

Each check is written to a temporary .ps1 file and run with ``&`` in its own
runspace (its own scope; execution policy Bypass for that runspace only):
running a *file* is what makes ``exit N`` set $LASTEXITCODE reliably, which is
the check's exit code (0 if it neither exits nor runs a native command). The
runspace gets the check's timeout (BeginInvoke + WaitOne); on timeout it is
stopped and any process it started is killed (taskkill /T /F). Output (all
streams) is rendered with Out-String and capped before it is written. Frames are
the same as for sh (see compile.py); the tokens are in the script, which
PowerShell reads whole (one statement) before it runs any check.
"""

from __future__ import annotations

import base64

from techdesk.diagnostics.bundle import Bundle

POWERSHELL_COMMAND = "powershell -NoProfile -NonInteractive -Command -"

_PS_RUNTIME = r"""$ErrorActionPreference = 'Continue'
$ProgressPreference = 'SilentlyContinue'
try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false } catch { }
$tdMark = '@MARK@'
$tdCap = @CAP1@
$tdDir = Join-Path ([System.IO.Path]::GetTempPath()) ('techdesk-' + [guid]::NewGuid().ToString('N'))
$null = New-Item -ItemType Directory -Path $tdDir -Force
$tdWrapper = {
  param($tdPath, $tdCap)
  $global:LASTEXITCODE = 0
  $tdN = 0
  $tdRc = 0
  try {
    & $tdPath *>&1 | Out-String -Stream -Width 4096 | ForEach-Object {
      if ($tdN -le $tdCap) { $tdN += $_.Length + 1; $_ }
    }
    $tdRc = $global:LASTEXITCODE
  } catch {
    'UNKNOWN - check failed: ' + $_.Exception.Message
    $tdRc = 3
  }
  if ($null -eq $tdRc) { $tdRc = 0 }
  $global:TdExitCode = $tdRc
}
function Write-TdFrame([string]$Text) {
  [Console]::Out.Write("`n" + $tdMark + ' ' + $Text + "`n")
  [Console]::Out.Flush()
}
function Stop-TdChildren([datetime]$Since) {
  try {
    Get-CimInstance Win32_Process -Filter "ParentProcessId = $PID" -ErrorAction Stop |
      Where-Object { $_.CreationDate -ge $Since } |
      ForEach-Object { & taskkill.exe /T /F /PID $_.ProcessId 2>&1 | Out-Null }
  } catch { }
}
function Invoke-TdCheck([string]$Id, [string]$Token, [int]$Timeout, [string]$Code) {
  Write-TdFrame ('NEXT ' + $Id)
  Write-TdFrame ('BEGIN ' + $Id + ' ' + $Token)
  $rc = 3
  $flags = '-'
  $text = ''
  $ps = $null
  $rs = $null
  try {
    $path = Join-Path $tdDir ($Id + '.ps1')
    $src = [System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String($Code))
    [System.IO.File]::WriteAllText($path, $src, (New-Object System.Text.UTF8Encoding $true))
    $iss = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault()
    $iss.ExecutionPolicy = [Microsoft.PowerShell.ExecutionPolicy]::Bypass
    $rs = [System.Management.Automation.Runspaces.RunspaceFactory]::CreateRunspace($iss)
    $rs.Open()
    $ps = [System.Management.Automation.PowerShell]::Create()
    $ps.Runspace = $rs
    $null = $ps.AddScript($tdWrapper.ToString()).AddArgument($path).AddArgument($tdCap)
    $in = New-Object 'System.Management.Automation.PSDataCollection[psobject]'
    $in.Complete()
    $out = New-Object 'System.Management.Automation.PSDataCollection[psobject]'
    $started = Get-Date
    $handle = $ps.BeginInvoke($in, $out)
    if ($handle.AsyncWaitHandle.WaitOne($Timeout * 1000)) {
      $code = $rs.SessionStateProxy.GetVariable('TdExitCode')
      if ($null -ne $code) { $rc = [int]$code }
      if ($ps.InvocationStateInfo.State -eq 'Failed') {
        $null = $out.Add('UNKNOWN - check failed: ' + $ps.InvocationStateInfo.Reason.Message)
        $rc = 3
      }
    } else {
      $flags = 'T'
      $null = $ps.BeginStop($null, $null)
      if (-not $handle.AsyncWaitHandle.WaitOne(2000)) { Stop-TdChildren $started }
    }
    # ReadAll takes a snapshot: after a timeout the runspace may still add.
    $text = (@($out.ReadAll()) | ForEach-Object { [string]$_ }) -join "`n"
  } catch {
    $text = 'UNKNOWN - techdesk could not run the check: ' + $_.Exception.Message
  }
  if ($text.Length -gt $tdCap) { $text = $text.Substring(0, $tdCap) }
  if ($text) { [Console]::Out.Write($text + "`n") }
  if ($flags -eq 'T') { $rc = 3 }
  Write-TdFrame ('END ' + $Id + ' ' + $Token + ' ' + $rc + ' ' + $flags)
  # A runspace stuck in a blocking call cannot be disposed: leave it to Exit.
  if ($flags -ne 'T') {
    if ($ps) { $ps.Dispose() }
    if ($rs) { $rs.Dispose() }
  }
}
"""


def _ascii(line: str) -> str:
    """One comment-safe ASCII line: non-ASCII escaped, control characters '?'."""
    safe = line.encode("ascii", "backslashreplace").decode("ascii")
    return "".join(ch if " " <= ch < "\x7f" or ch == "\t" else "?" for ch in safe)


def _comment(source: str) -> list[str]:
    return [f"#   {_ascii(line)}".rstrip() if line.strip() else "#"
            for line in source.splitlines() or [""]]


def compile_powershell(bundle: Bundle, mark_text: str, output_cap: int,
                       tokens: tuple[str, ...]) -> tuple[str, str]:
    """Return (script text, command). Pure ASCII, no blank line inside the block."""
    lines = ["& {",
             f"# techdesk bundle {bundle.name} version {_ascii(' '.join(str(bundle.version).split()))} "
             f"({len(bundle.checks)} checks)"]
    runtime = _PS_RUNTIME.replace("@MARK@", mark_text).replace("@CAP1@", str(output_cap + 1))
    lines += runtime.splitlines()
    lines.append("try {")
    for check, token in zip(bundle.checks, tokens, strict=True):
        source = check.script.replace("\r\n", "\n").replace("\r", "\n")
        code = base64.b64encode(source.encode("utf-8")).decode("ascii")
        lines.append(f"# check {check.id}: {_ascii(' '.join(check.title.split()))}")
        lines += _comment(source)
        lines.append(f"Invoke-TdCheck '{check.id}' '{token}' {check.timeout} '{code}'")
    lines += ["} finally {",
              "  Remove-Item -LiteralPath $tdDir -Recurse -Force -ErrorAction SilentlyContinue",
              "  [Console]::Out.Flush()",
              "}",
              # Runspaces stuck after a timeout must not keep the process alive.
              "[Environment]::Exit(0)",
              "}"]
    if any(not line.strip() for line in lines):
        raise AssertionError("PowerShell script must not contain a blank line")
    # Two newlines after the block: -Command - runs it once it sees a blank line.
    return "\n".join(lines) + "\n\n\n", POWERSHELL_COMMAND
