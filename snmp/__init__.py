"""The appliance SNMP agent (`python -m snmp.agent --config FILE`) and NPAC-APPLIANCE-MIB (snmp/mibs/)."""
