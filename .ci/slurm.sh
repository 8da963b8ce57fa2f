#!/usr/bin/env bash
# CI proof that the workflow runs on a real SLURM through profiles/slurm.
#
# Sets up a one-node SLURM (slurmctld + slurmd + munged, started by hand, no systemd) on
# this machine, with one fake GPU so that `--gpus=1` jobs schedule, runs the demo
# workflow on a tiny corpus with train.gpu: true, checks the report, that every job went
# through SLURM and that train and predict asked SLURM for a GPU, then stops whatever
# daemons it started. Needs root and the `cluster` extra (snakemake-executor-plugin-slurm)
# in the project's virtual environment. Usage: bash .ci/slurm.sh  (PYTHON=... to pick
# the interpreter; KEEP_WORKDIR=1 to keep the run's folder).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
PYTHON=${PYTHON:-$REPO/.venv/bin/python}
SECONDS=0
MARK="# written by cantaor .ci/slurm.sh"

say() { printf '[slurm.sh %3ds] %s\n' "$SECONDS" "$*"; }
fail() {
    say "FAIL: $*" >&2
    exit 1
}

[ "$(id -u)" = 0 ] || fail "must run as root (installs packages, writes /etc/slurm)"
"$PYTHON" -c 'import snakemake_executor_plugin_slurm' 2>/dev/null ||
    fail "snakemake-executor-plugin-slurm is missing: pip install -e '.[cluster]'"

# --- packages ---------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
    ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

# --- daemons: start only what is not running, stop only what this script started ----
STARTED=()
WORKDIR=""
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
stop_pidfile() {
    local pidfile=$1 pid
    alive "$pidfile" || return 0
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    kill -9 "$pid" 2>/dev/null || true
}
cleanup() {
    local rc=$?
    set +e
    if [[ " ${STARTED[*]} " == *" slurmctld "* ]]; then
        squeue -h -o %i 2>/dev/null | xargs -r scancel >/dev/null 2>&1
        sleep 1
    fi
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
        case ${STARTED[i]} in
        slurmd) stop_pidfile /run/slurmd.pid ;;
        slurmctld) stop_pidfile /run/slurmctld.pid ;;
        munged) stop_pidfile /run/munge/munged.pid ;;
        esac
    done
    [ ${#STARTED[@]} -gt 0 ] && say "stopped ${STARTED[*]}"
    if [ -n "$WORKDIR" ] && [ -z "${KEEP_WORKDIR:-}" ]; then
        rm -rf "$WORKDIR"
    elif [ -n "$WORKDIR" ]; then
        say "kept $WORKDIR"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# munge: the key, then munged as user munge.
if [ ! -s /etc/munge/munge.key ]; then
    say "creating /etc/munge/munge.key"
    install -d -o munge -g munge -m 0700 /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
fi
if ! alive /run/munge/munged.pid; then
    install -d -o munge -g munge -m 0755 /run/munge /var/log/munge /var/lib/munge
    runuser -u munge -- /usr/sbin/munged
    STARTED+=(munged)
fi
munge -n | unmunge >/dev/null || fail "munge does not work"

# slurm.conf and gres.conf, for this host as slurmd sees it.
HOST=$(hostname -s)
if ! alive /run/slurmctld.pid; then
    for conf in /etc/slurm/slurm.conf /etc/slurm/gres.conf; do
        if [ -e "$conf" ] && ! grep -qF "$MARK" "$conf"; then
            fail "$conf exists and was not written by this script; not overwriting it"
        fi
    done
    NODE=$(slurmd -C | head -n 1)
    case $NODE in NodeName=*) ;; *) fail "unexpected slurmd -C output: $NODE" ;; esac
    install -d /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
    cat >/etc/slurm/slurm.conf <<EOF
$MARK
ClusterName=cantaor
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
MinJobAge=3600
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
GresTypes=gpu
$NODE Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
    cat >/etc/slurm/gres.conf <<EOF
$MARK
# A fake GPU: lets --gpus=1 jobs schedule on a machine without one.
NodeName=$HOST Name=gpu File=/dev/null
EOF
    slurmctld -c # -c: a fresh cluster, no jobs from an earlier run
    STARTED+=(slurmctld)
fi
if ! alive /run/slurmd.pid; then
    slurmd
    STARTED+=(slurmd)
fi
node_state() { timeout 5 sinfo -h -N -n "$HOST" -o %t 2>/dev/null || true; }
started=$SECONDS
until [ "$(node_state)" = idle ]; do
    # The daemons fork and write their pid files; one that has died by then logged why.
    if [ $((SECONDS - started)) -ge 60 ] || { [ $((SECONDS - started)) -ge 5 ] &&
        ! { alive /run/slurmctld.pid && alive /run/slurmd.pid; }; }; then
        tail -n 5 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
        fail "node $HOST did not come up idle (state: '$(node_state)')"
    fi
    sleep 0.5
done
say "SLURM up: $(sinfo -h -N -o '%N %t cpus=%c mem=%m gres=%G')"

# --- the workflow, every job a SLURM job ---------------------------------------------
WORKDIR=$(mktemp -d /tmp/cantaor-slurm.XXXXXX)
# The test suite's tiny corpus (tests/data/tiny_config.yaml over config/config.yaml, as
# tests/test_workflow.py writes it), cut to one run to stay well within CI time, with
# train.gpu: true so that train and predict are GPU jobs.
"$PYTHON" - "$REPO" "$WORKDIR" <<'EOF'
import sys
from pathlib import Path

import yaml

repo, workdir = map(Path, sys.argv[1:])


def deep_update(base, extra):
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_update(base[key], value)
        else:
            base[key] = value
    return base


config = yaml.safe_load((repo / "config/config.yaml").read_text())
deep_update(config, yaml.safe_load((repo / "tests/data/tiny_config.yaml").read_text()))
# One of each list the tiny corpus multiplies runs by (the first: datasets, split
# strategies, feature kinds, models), whichever of these keys the config has.
for section, key in [(None, "datasets"), ("split", "strategies"),
                     ("features", "kinds"), ("train", "models")]:
    holder = config if section is None else config.get(section, {})
    if isinstance(holder.get(key), list) and holder[key]:
        holder[key] = holder[key][:1]
config["train"]["gpu"] = True
(workdir / "config").mkdir()
(workdir / "config/config.yaml").write_text(yaml.safe_dump(config))
EOF

say "running the workflow through profiles/slurm in $WORKDIR"
LOG=$WORKDIR/snakemake.out
# No accounting database on this cluster: status from squeue (MinJobAge keeps finished
# jobs visible). Short first status check; keep the SLURM logs of successful jobs.
if ! CANTAOR_SLURM_STATUS_COMMAND=squeue "$PYTHON" -m snakemake \
    -s "$REPO/Snakefile" -d "$WORKDIR" --profile "$REPO/profiles/slurm" \
    --slurm-init-seconds-before-status-checks 2 --slurm-keep-successful-logs \
    >"$LOG" 2>&1; then
    tail -n 60 "$LOG" >&2
    # The SLURM log of each failed job holds what the job printed before its rule log
    # was opened (an import error, a crash): show it before the folder is removed.
    grep -oE '/[^ ,]*/slurm_logs/[^ ,]*\.log' "$LOG" | sort -u | while read -r slurm_log; do
        [ -s "$slurm_log" ] || continue
        grep -qiE 'error|exception|traceback|killed' "$slurm_log" || continue
        echo "--- $slurm_log" >&2
        tail -n 40 "$slurm_log" >&2
    done
    fail "snakemake failed (log above)"
fi
say "workflow finished"

# --- checks ---------------------------------------------------------------------------
[ -s "$WORKDIR/results/report/results.md" ] || fail "results/report/results.md missing"
MODEL=$("$PYTHON" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["train"]["models"][0])' \
    "$WORKDIR/config/config.yaml")
grep -q "| $MODEL |" "$WORKDIR/results/report/results.md" || fail "results.md has no row for $MODEL"

# Every job but the local target rule was submitted to SLURM.
PLANNED=$(awk '/^Job stats:/ {s = 1} s && $1 == "total" {print $2; exit}' "$LOG")
SUBMITTED=$(grep -cE 'has been submitted with SLURM jobid [0-9]+' "$LOG" || true)
[ -n "$PLANNED" ] || fail "no job stats in the snakemake log"
[ "$SUBMITTED" -ge $((PLANNED - 1)) ] || fail "$SUBMITTED SLURM jobs for $PLANNED planned"
SLURM_LOGS=$(find "$WORKDIR/.snakemake/slurm_logs" -name '*.log' | wc -l)
[ "$SLURM_LOGS" -ge "$SUBMITTED" ] || fail "$SLURM_LOGS SLURM logs for $SUBMITTED jobs"

# train and predict asked SLURM for a GPU (the node has one, so they could only run with
# it allocated) and completed.
for rule in train predict; do
    ids=$(grep -oE "has been submitted with SLURM jobid [0-9]+ \(log: [^)]*/rule_$rule/" "$LOG" |
        grep -oE 'jobid [0-9]+' | cut -d' ' -f2)
    [ -n "$ids" ] || fail "no $rule job went to SLURM"
    for id in $ids; do
        info=$(scontrol show job -o "$id")
        grep -qE 'TresPerJob=(gres:)?gpu:1' <<<"$info" || fail "$rule job $id has no --gpus=1: $info"
        grep -q 'JobState=COMPLETED' <<<"$info" || fail "$rule job $id did not complete: $info"
    done
    say "$rule: SLURM job(s) $(echo $ids) ran with a GPU"
done
# Jobs without a GPU asked for none.
nogpu=$(grep -oE "has been submitted with SLURM jobid [0-9]+ \(log: [^)]*/rule_f0/" "$LOG" |
    head -n 1 | grep -oE 'jobid [0-9]+' | cut -d' ' -f2)
[ -n "$nogpu" ] || fail "no f0 job went to SLURM"
if scontrol show job -o "$nogpu" | grep -q 'gpu'; then
    fail "f0 job $nogpu was given a GPU"
fi

say "OK: $SUBMITTED SLURM jobs ($PLANNED planned), report written, wall time ${SECONDS}s"
