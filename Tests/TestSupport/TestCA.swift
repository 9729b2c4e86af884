/// A CA and a server certificate for 127.0.0.1 and localhost, made with the openssl CLI in `dir`:
/// `ca.crt`, `server.crt`, `server.key`.
public enum TestCA {
    public static func issue(in dir: String, ips: [String] = []) {
        TestTargets.sh("""
            cd \(dir) && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 30 \
              -subj '/CN=Custody Test CA' 2>/dev/null && \
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr -subj '/CN=localhost' 2>/dev/null && \
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\(ips.map { ",IP:" + $0 }.joined())\\n' > ext.cnf && \
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 30 -extfile ext.cnf 2>/dev/null
            """)
    }
}
