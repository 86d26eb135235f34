extension BannedPasswordList {
    /// A small built-in global list, in the spirit of Entra's global banned list: the words
    /// and keyboard walks that top every breached-password ranking, seasons and months (the
    /// classic "Season+Year!" rotation), and IT-desk defaults. Matched with the same
    /// normalisation and edit distance as the configured terms, so `P@ssw0rd` is `password`.
    /// Organisation-specific terms (company, product, city names) belong in
    /// `banned_passwords_file`.
    public static let globalTerms: [String] = [
        // The perennial top of breach lists.
        "password", "passwort", "motdepasse", "contrasena", "wachtwoord", "qwerty", "qwertz",
        "azerty", "asdfgh", "zxcvbn", "qazwsx", "123456", "1234567", "12345678", "123456789",
        "1234567890", "987654321", "654321", "111111", "000000", "123123", "112233", "121212",
        "abc123", "abcdef", "abcd1234", "iloveyou", "letmein", "welcome", "monkey", "dragon",
        "sunshine", "princess", "football", "baseball", "soccer", "master", "shadow", "superman",
        "batman", "trustno1", "whatever", "freedom", "starwars", "pokemon", "michael", "jordan",
        "hello", "charlie", "secret", "access", "login", "pass1234",
        // IT defaults and the reset situation itself.
        "changeme", "default", "admin", "administrator", "temporary", "guest",
        "support", "helpdesk", "service", "reset", "newpassword", "welkom", "willkommen",
        "bienvenue", "benvenuto", "bienvenido",
        // Seasons and months: Season+Year is the most common rotation.
        "spring", "summer", "autumn", "winter", "january", "february", "march",
        "april", "august", "september", "october", "november", "december",
        // Chinese pinyin favourites (the messages ship in Chinese, so do the users).
        "woaini", "wodemima", "aini1314", "5201314", "1314520", "88888888",
        "66666666",
    ]
}
