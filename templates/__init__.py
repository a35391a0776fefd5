"""The templates etcdkit renders (jinja2) and the scripts it runs on hosts: package data of etcdkit."""
