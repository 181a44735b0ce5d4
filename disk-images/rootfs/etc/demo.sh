# /etc/demo.sh: a script for /bin/sh (init runs `sh /etc/demo.sh`).
# sh echoes each command as "$ command" and looks programs up in $PATH.
echo sh: running /etc/demo.sh
hello
echo programs take arguments: one two three
stackgrow 16
