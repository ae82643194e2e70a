/**
 * conn.log's `service`, guessed from the server port (Zeek finds it by inspecting the payload, which
 * tcplens does not keep): the IANA name Zeek would log for the usual protocol on that port.
 */
const BY_PORT: ReadonlyMap<number, string> = new Map([
  [20, 'ftp-data'], [21, 'ftp'], [22, 'ssh'], [23, 'telnet'], [25, 'smtp'], [53, 'dns'], [79, 'finger'], [80, 'http'],
  [88, 'krb_tcp'], [110, 'pop3'], [111, 'sunrpc'], [135, 'dce_rpc'], [139, 'smb'], [143, 'imap'], [179, 'bgp'],
  [389, 'ldap'], [443, 'ssl'], [445, 'smb'], [465, 'smtp,ssl'], [502, 'modbus'], [587, 'smtp'], [636, 'ldap,ssl'],
  [993, 'imap,ssl'], [995, 'pop3,ssl'], [1080, 'socks'], [1433, 'mssql'], [1883, 'mqtt'], [2049, 'nfs'],
  [3306, 'mysql'], [3389, 'rdp'], [5060, 'sip'], [5432, 'postgresql'], [5900, 'rfb'], [6379, 'redis'],
  [6667, 'irc'], [8080, 'http'], [8443, 'ssl'], [20000, 'dnp3_tcp'],
]);

/** The service name for a server port, or null (conn.log's "-"). */
export function serviceForPort(port: number): string | null {
  return BY_PORT.get(port) ?? null;
}
