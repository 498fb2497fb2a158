# transports: rules added by its component
