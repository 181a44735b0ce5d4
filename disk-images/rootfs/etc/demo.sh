# /etc/demo.sh: a script for /bin/sh (init runs `sh /etc/demo.sh`).
# sh echoes each command as "$ command" and looks programs up in $PATH.
echo sh: running /etc/demo.sh
hello
echo programs take arguments: one two three
stackgrow 16
# Swapping: `npm start` boots with 4 MiB of RAM and a swap area on hdb, so
# most of memhog's 6 MiB goes out to the disk and comes back intact (the
# vmstat after this script shows the swap_outs and swap_ins).
echo swapping: 6 MiB of memory on a machine with 4 MiB of RAM
memhog 6M random
