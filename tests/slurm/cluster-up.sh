#!/usr/bin/env bash
# cluster-up.sh DIR -- a private single-node Slurm cluster for the tests: munged, slurmctld and
# slurmd started as plain daemons (no systemd), all state, sockets, logs and PID files under DIR.
# Prints nothing on success but the line "export SLURM_CONF=..." to stderr; clients need that
# variable. Stop it with cluster-down.sh DIR.
#
# Pitfalls this script handles (Debian 12, Slurm 22.05):
# - munged wants its socket directory 0755 and its key 0400, and a socket path under ~100 chars;
#   daemons and clients find a private socket only through AuthInfo=socket=... in slurm.conf.
# - a requeued job may start again only after cred_expire seconds (120 by default): 10 here.
# - more tasks than cores need more advertised CPUs (SlurmdParameters=config_overrides).
# - no cgroups, no accounting daemon: proctrack/linuxproc, task/none, jobcomp to a text file.
set -euo pipefail
D=$(realpath -m "${1:?usage: cluster-up.sh DIR}")
CPUS=${RF_SLURM_CPUS:-8}
PORT=${RF_SLURM_PORT:-6817}
HOST=$(hostname -s)
mkdir -p "$D"/{etc,munge,state,spool,log,run}
chmod 0755 "$D" "$D/munge" # munged wants every folder on its socket path a+x
[ ${#D} -lt 80 ] || { echo "cluster-up: $D is too long a path for munge's socket" >&2; exit 1; }
if [ ! -s "$D/munge/munge.key" ]; then
    dd if=/dev/urandom of="$D/munge/munge.key" bs=1024 count=1 status=none
    chmod 0400 "$D/munge/munge.key"
fi
MEM=$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)
cat >"$D/etc/slurm.conf" <<CONF
ClusterName=rftest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$D/munge/munge.socket,cred_expire=10
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/run/slurmctld.pid
SlurmdPidFile=$D/run/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
PlugStackConfig=$D/etc/plugstack.conf
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$D/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
MinJobAge=600
KillWait=5
InactiveLimit=0
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
: >"$D/etc/plugstack.conf"
export SLURM_CONF=$D/etc/slurm.conf

munged --key-file="$D/munge/munge.key" --socket="$D/munge/munge.socket" \
    --pid-file="$D/munge/munged.pid" --log-file="$D/log/munged.log" --seed-file="$D/munge/seed"
slurmctld -c -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N "$HOST"
for _ in $(seq 120); do
    case "$(sinfo -h -N -o '%T' 2>/dev/null | head -n1)" in
    idle*) echo "export SLURM_CONF=$SLURM_CONF" >&2; exit 0 ;;
    down* | drain*) scontrol update NodeName="$HOST" State=RESUME 2>/dev/null || true ;;
    esac
    sleep 0.5
done
echo "cluster-up: the node did not become idle; logs in $D/log" >&2
exit 1
