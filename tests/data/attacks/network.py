
import socket
for family, address in [(socket.AF_INET, ("127.0.0.1", {port})), (socket.AF_UNIX, "{unix}")]:
    try:
        connection = socket.socket(family, socket.SOCK_STREAM)
        connection.settimeout(2)
        connection.connect(address)
        connection.sendall(b"{marker}")
        print("CONNECTED", address)
    except OSError as error:
        print("REFUSED", address, type(error).__name__)
