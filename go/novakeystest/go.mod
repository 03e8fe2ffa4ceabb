module novakeys/novakeystest

go 1.19
