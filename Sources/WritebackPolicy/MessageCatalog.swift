import WritebackCore

/// The texts behind `UserMessages`. Exhaustive `switch`es: a new outcome code or password rule
/// does not compile until it has a message in every locale.
enum MessageCatalog {
    static func text(for code: OutcomeCode, _ locale: MessageLocale) -> String {
        switch locale {
        case .en: en(code)
        case .zhCN: zhCN(code)
        case .zhTW: zhTW(code)
        }
    }

    static func text(for rule: PasswordRule, _ locale: MessageLocale) -> String {
        switch locale {
        case .en: en(rule)
        case .zhCN: zhCN(rule)
        case .zhTW: zhTW(rule)
        }
    }

    static func unlockDisabled(_ locale: MessageLocale) -> String {
        switch locale {
        case .en: "Unlocking your account without resetting your password is not enabled. Please reset your password instead, or contact your administrator."
        case .zhCN: "未启用在不重置密码的情况下解锁账户。请改为重置密码，或联系管理员。"
        case .zhTW: "未啟用在不重設密碼的情況下解除鎖定帳戶。請改為重設密碼，或與系統管理員聯絡。"
        }
    }

    /// The configured number for the rules that have one.
    static func limit(for rule: PasswordRule, policy: PolicyConfig, _ locale: MessageLocale) -> String? {
        let hours = policy.minAgeHours == policy.minAgeHours.rounded() ? String(Int(policy.minAgeHours)) : String(policy.minAgeHours)
        switch (rule, locale) {
        case (.tooShort, .en): return "It must have at least \(policy.minLength) characters."
        case (.tooShort, .zhCN): return "至少需要 \(policy.minLength) 个字符。"
        case (.tooShort, .zhTW): return "至少需要 \(policy.minLength) 個字元。"
        case (.tooLong, .en): return "It can have at most \(policy.maxLength) characters."
        case (.tooLong, .zhCN): return "最多可包含 \(policy.maxLength) 个字符。"
        case (.tooLong, .zhTW): return "最多可包含 \(policy.maxLength) 個字元。"
        case (.tooYoung, .en) where policy.minAgeHours > 0: return "Passwords can be changed once every \(hours) hours."
        case (.tooYoung, .zhCN) where policy.minAgeHours > 0: return "两次更改之间至少需要间隔 \(hours) 小时。"
        case (.tooYoung, .zhTW) where policy.minAgeHours > 0: return "兩次變更之間至少需間隔 \(hours) 小時。"
        default: return nil
        }
    }

    private static func en(_ code: OutcomeCode) -> String {
        switch code {
        case .succeeded: "Your request has been completed successfully."
        case .invalidRequest: "We could not process this request. Please start the password reset again."
        case .expired: "This request expired before it could be completed. Please start the password reset again."
        case .replayed: "This request has already been processed. If you still need to reset your password, please start again."
        case .ssprDisabled: "Your account is not enabled for password reset. Please contact your administrator."
        case .notInScope: "Your account is not enabled for self-service password reset. Please contact your administrator."
        case .notLicensed: "Your account does not have a license that includes password reset. Please contact your administrator."
        case .notRegistered: "You have not registered the verification methods password reset requires, or your registration has expired. Please register again, or contact your administrator."
        case .insufficientVerification: "We could not verify your account. Please complete all the required verification steps and try again."
        case .notManaged: "We could not find your account. Check the user name you entered, or contact your administrator."
        case .ambiguousUser: "We could not identify your account. Please contact your administrator."
        case .accountDisabled: "Your account is disabled. Please contact your administrator."
        case .protectedAccount: "The password of an administrator account cannot be reset here. Please contact your administrator."
        case .throttled: "Your password has been reset too many times recently. Please wait an hour and try again."
        case .wrongOldPassword: "The current password you entered is incorrect."
        case .passwordPolicy: "Your new password does not meet the password requirements. Please choose a different password."
        case .directoryPermission: "We're sorry, we can't reset your password at this time because of a problem with your organization's password reset configuration. Please contact your administrator."
        case .directoryUnavailable: "We could not reach your organization's directory in time, so your password was not changed. Please try again later."
        case .directoryError: "We're sorry, something went wrong while resetting your password. Please try again later, or contact your administrator."
        }
    }

    private static func zhCN(_ code: OutcomeCode) -> String {
        switch code {
        case .succeeded: "您的请求已成功完成。"
        case .invalidRequest: "无法处理此请求。请重新开始重置密码。"
        case .expired: "此请求在完成前已过期。请重新开始重置密码。"
        case .replayed: "此请求已处理过。如仍需重置密码，请重新开始。"
        case .ssprDisabled: "您的账户未启用密码重置功能。请联系管理员。"
        case .notInScope: "您的账户未启用自助密码重置。请联系管理员。"
        case .notLicensed: "您的账户没有包含密码重置功能的许可证。请联系管理员。"
        case .notRegistered: "您尚未注册密码重置所需的验证方式，或注册信息已过期。请重新注册，或联系管理员。"
        case .insufficientVerification: "我们无法验证您的账户。请完成所有必需的验证步骤后重试。"
        case .notManaged: "找不到您的账户。请检查您输入的用户名，或联系管理员。"
        case .ambiguousUser: "我们无法确定您的账户。请联系管理员。"
        case .accountDisabled: "您的账户已被禁用。请联系管理员。"
        case .protectedAccount: "无法在此重置管理员账户的密码。请联系管理员。"
        case .throttled: "您的密码最近重置次数过多。请等待一小时后重试。"
        case .wrongOldPassword: "您输入的当前密码不正确。"
        case .passwordPolicy: "新密码不符合密码要求。请选择其他密码。"
        case .directoryPermission: "很抱歉，由于贵组织的密码重置配置有问题，目前无法重置您的密码。请联系管理员。"
        case .directoryUnavailable: "未能及时连接到贵组织的目录服务，您的密码未更改。请稍后重试。"
        case .directoryError: "很抱歉，重置密码时出错。请稍后重试，或联系管理员。"
        }
    }

    private static func zhTW(_ code: OutcomeCode) -> String {
        switch code {
        case .succeeded: "您的要求已順利完成。"
        case .invalidRequest: "無法處理此要求。請重新開始重設密碼。"
        case .expired: "此要求在完成前已逾期。請重新開始重設密碼。"
        case .replayed: "此要求已處理過。如仍需重設密碼，請重新開始。"
        case .ssprDisabled: "您的帳戶未啟用密碼重設功能。請與系統管理員聯絡。"
        case .notInScope: "您的帳戶未啟用自助式密碼重設。請與系統管理員聯絡。"
        case .notLicensed: "您的帳戶沒有包含密碼重設功能的授權。請與系統管理員聯絡。"
        case .notRegistered: "您尚未註冊密碼重設所需的驗證方式，或註冊資料已過期。請重新註冊，或與系統管理員聯絡。"
        case .insufficientVerification: "我們無法驗證您的帳戶。請完成所有必要的驗證步驟後再試一次。"
        case .notManaged: "找不到您的帳戶。請檢查您輸入的使用者名稱，或與系統管理員聯絡。"
        case .ambiguousUser: "我們無法確認您的帳戶。請與系統管理員聯絡。"
        case .accountDisabled: "您的帳戶已停用。請與系統管理員聯絡。"
        case .protectedAccount: "無法在此重設管理員帳戶的密碼。請與系統管理員聯絡。"
        case .throttled: "您的密碼最近重設次數過多。請等候一小時後再試一次。"
        case .wrongOldPassword: "您輸入的目前密碼不正確。"
        case .passwordPolicy: "新密碼不符合密碼需求。請選擇其他密碼。"
        case .directoryPermission: "很抱歉，由於貴組織的密碼重設設定有問題，目前無法重設您的密碼。請與系統管理員聯絡。"
        case .directoryUnavailable: "未能及時連線到貴組織的目錄服務，您的密碼未變更。請稍後再試。"
        case .directoryError: "很抱歉，重設密碼時發生錯誤。請稍後再試，或與系統管理員聯絡。"
        }
    }

    private static func en(_ rule: PasswordRule) -> String {
        switch rule {
        case .tooShort: "Your new password is too short."
        case .tooLong: "Your new password is too long."
        case .complexity: "Your new password must contain characters from at least three of these groups: upper-case letters, lower-case letters, digits, symbols, and other letters (such as Chinese characters)."
        case .containsUserName: "Your new password must not contain your user name or parts of your full name."
        case .banned: "Your new password contains a word or pattern that is too easy to guess. Please choose a different password."
        case .breached: "Your new password has appeared in a known data breach. Please choose a different password."
        case .history: "You have used this password recently. Please choose a password you have not used before."
        case .tooYoung: "Your password was changed too recently and cannot be changed again yet. Please try again later."
        case .directoryRule: "Your organization's directory refused the new password because it does not meet its password policy. Please choose a different password."
        }
    }

    private static func zhCN(_ rule: PasswordRule) -> String {
        switch rule {
        case .tooShort: "新密码太短。"
        case .tooLong: "新密码太长。"
        case .complexity: "新密码必须包含以下至少三类字符：大写字母、小写字母、数字、符号以及其他文字（例如汉字）。"
        case .containsUserName: "新密码不能包含您的用户名或姓名的一部分。"
        case .banned: "新密码包含容易被猜到的词语或模式。请选择其他密码。"
        case .breached: "新密码曾出现在已知的数据泄露事件中。请选择其他密码。"
        case .history: "您最近使用过此密码。请选择一个以前未使用过的密码。"
        case .tooYoung: "您的密码刚刚更改过，暂时无法再次更改。请稍后重试。"
        case .directoryRule: "贵组织的目录服务拒绝了新密码，因为它不符合目录的密码策略。请选择其他密码。"
        }
    }

    private static func zhTW(_ rule: PasswordRule) -> String {
        switch rule {
        case .tooShort: "新密碼太短。"
        case .tooLong: "新密碼太長。"
        case .complexity: "新密碼必須包含下列至少三類字元：大寫字母、小寫字母、數字、符號，以及其他文字（例如中文字）。"
        case .containsUserName: "新密碼不得包含您的使用者名稱或姓名的一部分。"
        case .banned: "新密碼包含容易被猜到的字詞或模式。請選擇其他密碼。"
        case .breached: "新密碼曾出現在已知的資料外洩事件中。請選擇其他密碼。"
        case .history: "您最近使用過此密碼。請選擇一個先前未使用過的密碼。"
        case .tooYoung: "您的密碼剛變更過，暫時無法再次變更。請稍後再試。"
        case .directoryRule: "貴組織的目錄服務拒絕了新密碼，因為它不符合目錄的密碼原則。請選擇其他密碼。"
        }
    }
}
