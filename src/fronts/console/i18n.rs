//! The console's two languages: English and Traditional Chinese (TWCC documents its portal in
//! both). Every text is a field of [`Texts`], so a template that names a missing text does not
//! compile, and each entry keeps both languages on one line.

macro_rules! texts {
    ($($field:ident: $en:expr, $zh:expr;)*) => {
        /// The texts of one language.
        pub struct Texts {
            /// The `lang` attribute and the cookie value.
            pub code: &'static str,
            $(pub $field: &'static str,)*
        }
        pub static EN: Texts = Texts { code: "en", $($field: $en,)* };
        pub static ZH_TW: Texts = Texts { code: "zh-TW", $($field: $zh,)* };
    };
}

texts! {
    lang_name: "English", "繁體中文";
    console: "console", "主控台";
    skip: "Skip to content", "跳至主要內容";
    key_pairs: "Key Pairs", "金鑰對";
    activity: "Activity", "活動紀錄";
    project: "Project", "專案";
    switch: "Switch", "切換";
    log_in: "Log in", "登入";
    log_out: "Log out", "登出";
    user_name: "User name", "使用者名稱";
    password: "Password", "密碼";
    domain: "Domain", "網域";
    log_in_title: "Log in to novakeys", "登入 novakeys";
    log_in_lead: "Use your Keystone user: the key pairs you see are the ones every novakeys API serves to it.", "請使用 Keystone 使用者登入：這裡的金鑰對與 novakeys 各個 API 提供給該使用者的相同。";
    invalid_credentials: "Invalid credentials.", "帳號或密碼錯誤。";
    no_projects: "You are not authorized for any projects.", "您沒有任何專案的權限。";
    session_ended: "Your session has ended. Log in again.", "您的工作階段已結束，請重新登入。";
    name: "Name", "名稱";
    kind: "Type", "類型";
    fingerprint: "Fingerprint", "指紋";
    created: "Created", "建立時間";
    bound_instances: "Bound instances", "已綁定的執行個體";
    actions: "Actions", "操作";
    select: "Select", "選取";
    select_all: "Select all", "全選";
    create_key_pair: "Create Key Pair", "建立金鑰對";
    import_public_key: "Import Public Key", "匯入公開金鑰";
    delete_key_pairs: "Delete Key Pairs", "刪除金鑰對";
    quota_exceeded: "(Quota exceeded)", "（已達配額）";
    read_only: "(read only)", "（唯讀）";
    quota_used: "Quota", "配額";
    unlimited: "unlimited", "無限制";
    filter_placeholder: "Filter by name", "依名稱篩選";
    filter: "Filter", "篩選";
    clear: "Clear", "清除";
    sort_newest: "Newest first", "最新優先";
    sort_name: "By name", "依名稱";
    sort: "Sort", "排序";
    empty_title: "No key pairs yet", "尚無金鑰對";
    empty_text: "Create one here, or with any novakeys API: openstack keypair create, aliyun, tccli, twccli.", "可在此建立，或透過任一 novakeys API 建立：openstack keypair create、aliyun、tccli、twccli。";
    no_match: "No key pair matches this filter.", "沒有符合篩選條件的金鑰對。";
    showing: "Showing", "顯示";
    of: "of", "筆，共";
    previous: "Previous", "上一頁";
    next: "Next", "下一頁";
    details: "Details", "詳細資料";
    delete: "Delete", "刪除";
    cancel: "Cancel", "取消";
    back_to_list: "Back to Key Pairs", "返回金鑰對列表";
    create_lead: "A new RSA key pair: the private key downloads as NAME.pem at once.", "建立新的 RSA 金鑰對：私密金鑰會立即以 NAME.pem 下載。";
    name_hint: "Letters, digits, spaces, hyphens, underscores, @ and dots; at most 255.", "可使用英文字母、數字、空格、連字號、底線、@ 與句點；最多 255 個字元。";
    name_required: "Enter a name.", "請輸入名稱。";
    name_invalid: "Key pair name may only contain letters, numbers, underscores, spaces, hyphens, @ and dots (at most 255).", "金鑰對名稱只能包含英文字母、數字、底線、空格、連字號、@ 與句點（最多 255 個字元）。";
    name_exists: "Key pair already exists.", "金鑰對已存在。";
    quota_reached: "The key pair quota is used up: delete a key pair first.", "金鑰對配額已用完：請先刪除金鑰對。";
    not_allowed: "Your role on this project may not change key pairs.", "您在此專案的角色無法變更金鑰對。";
    tags: "Tags", "標籤";
    tags_hint: "Optional: one key=value per line (at most 20).", "選填：每行一個 key=value（最多 20 個）。";
    tags_invalid: "Tags are key=value lines with unique, non-empty keys of at most 127 characters (at most 20 tags).", "標籤格式為每行 key=value，鍵不可為空、不可重複、最多 127 個字元（最多 20 個標籤）。";
    create: "Create", "建立";
    import: "Import", "匯入";
    import_lead: "Register a public key you already have; no private key is made.", "登錄您已有的公開金鑰；不會產生私密金鑰。";
    key_type: "Key type", "金鑰類型";
    ssh_key: "SSH Key", "SSH 金鑰";
    x509_certificate: "X509 Certificate", "X509 憑證";
    public_key: "Public key", "公開金鑰";
    public_key_hint: "Paste it, or load it from a file (at most 16 KiB).", "貼上公開金鑰，或從檔案載入（最多 16 KiB）。";
    load_from_file: "Load from file", "從檔案載入";
    key_required: "Enter a public key or choose a file.", "請輸入公開金鑰或選擇檔案。";
    key_too_large: "The public key is larger than 16 KiB.", "公開金鑰超過 16 KiB。";
    key_invalid_ssh: "This is not a valid SSH public key.", "這不是有效的 SSH 公開金鑰。";
    key_invalid_x509: "This is not a valid X509 certificate (PEM).", "這不是有效的 X509 憑證（PEM）。";
    created_title: "Key pair created", "金鑰對已建立";
    created_warning: "Download the private key now: novakeys keeps no copy, and it cannot be recovered later.", "請立即下載私密金鑰：novakeys 不會保留副本，之後無法復原。";
    created_auto: "The private key NAME.pem is downloading.", "私密金鑰 NAME.pem 正在下載。";
    download_again: "Download again", "再次下載";
    download_once: "The download works once more, for 10 minutes.", "可再下載一次，期限 10 分鐘。";
    download_gone: "This private key is no longer available: it was downloaded already or has expired. novakeys keeps no copy.", "此私密金鑰已無法取得：已下載過或已逾期。novakeys 不會保留副本。";
    close: "Close", "關閉";
    id: "ID", "ID";
    user: "User", "使用者";
    description: "Description", "描述";
    none: "none", "無";
    copy: "Copy", "複製";
    copied: "Copied", "已複製";
    edit: "Rename / describe", "重新命名／描述";
    save: "Save", "儲存";
    saved: "Saved.", "已儲存。";
    description_hint: "At most 60 characters.", "最多 60 個字元。";
    description_invalid: "The description is longer than 60 characters.", "描述超過 60 個字元。";
    instances: "Instances", "執行個體";
    instance: "Instance", "執行個體";
    cloud: "Cloud", "雲端";
    state: "State", "狀態";
    os: "OS", "作業系統";
    bind: "Bind", "綁定";
    unbind: "Unbind", "解除綁定";
    bound: "Bound.", "已綁定。";
    unbound: "Unbound.", "已解除綁定。";
    no_instances: "No instance of this project is bound to this key pair.", "此專案沒有執行個體綁定此金鑰對。";
    bind_lead: "Give an instance of this project this key pair (it replaces the instance's key).", "將此金鑰對綁定到此專案的執行個體（會取代該執行個體原有的金鑰）。";
    force_stop: "Stop a running Tencent instance first (ForceStop)", "先停止執行中的騰訊雲執行個體（ForceStop）";
    windows_refused: "Windows instances take no key pair.", "Windows 執行個體不支援金鑰對。";
    must_stop: "Tencent binds key pairs to stopped instances only: tick ForceStop or stop it first.", "騰訊雲只能將金鑰對綁定到已停止的執行個體：請勾選 ForceStop 或先停止它。";
    no_bindable: "No instance of this project can take this key pair.", "此專案沒有可綁定此金鑰對的執行個體。";
    confirm_delete_title: "Delete key pairs", "刪除金鑰對";
    confirm_delete_text: "Removing a key pair can orphan resources: instances keep the key they were given. This cannot be undone.", "刪除金鑰對可能使資源失去對應：執行個體會保留已取得的金鑰。此動作無法復原。";
    confirm_delete_bound: "Key pairs bound to an instance are skipped.", "已綁定執行個體的金鑰對會略過。";
    nothing_selected: "Select at least one key pair.", "請至少選取一個金鑰對。";
    outcome_title: "Delete results", "刪除結果";
    outcome_deleted: "Deleted", "已刪除";
    outcome_bound: "Skipped: bound to an instance", "已略過：已綁定執行個體";
    outcome_missing: "Skipped: no longer exists", "已略過：已不存在";
    outcome_failed: "Failed", "失敗";
    activity_lead: "Every request to every novakeys API, newest first: secrets and private keys are redacted.", "novakeys 每個 API 收到的請求，最新的在前：密碼與私密金鑰已遮蔽。";
    front: "API", "API";
    status: "Status", "狀態碼";
    all: "All", "全部";
    method: "Method", "方法";
    path: "Path", "路徑";
    include_console: "Include the console's own requests", "包含主控台本身的請求";
    request: "Request", "請求";
    response: "Response", "回應";
    no_activity: "No request matches.", "沒有符合的請求。";
    forbidden_title: "Not allowed", "無權限";
    forbidden_text: "This page is for admins.", "此頁面僅供管理員使用。";
    not_found_title: "Not found", "找不到";
    not_found_text: "There is no such page or key pair.", "沒有這個頁面或金鑰對。";
    refused_title: "Request refused", "請求遭拒";
    refused_text: "The form was not sent from this console, or its page has expired. Reload the page and try again.", "表單不是從此主控台送出，或頁面已過期。請重新載入頁面後再試一次。";
    error_title: "Something went wrong", "發生錯誤";
    error_text: "novakeys could not answer this request.", "novakeys 無法處理此請求。";
    unavailable_title: "Service unavailable", "服務暫時無法使用";
    unavailable_text: "novakeys cannot reach its database right now. Nothing was changed; try again in a moment.", "novakeys 目前無法連線至資料庫，未做任何變更，請稍後再試。";
    footer: "novakeys web console: the key pairs of the Nova, Alibaba, Tencent and TWCC APIs, over one store.", "novakeys 網頁主控台：Nova、阿里雲、騰訊雲與 TWCC API 共用同一個金鑰對儲存區。";
}

/// The texts for a `nk_lang` cookie value or an `Accept-Language` header.
pub fn pick(cookie: Option<&str>, accept_language: Option<&str>) -> &'static Texts {
    match cookie {
        Some("zh-TW") => return &ZH_TW,
        Some("en") => return &EN,
        _ => {}
    }
    // The first language the browser names that we have.
    for tag in accept_language.unwrap_or("").split(',') {
        let tag = tag
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if tag.starts_with("zh-tw") || tag.starts_with("zh-hant") || tag == "zh-hk" {
            return &ZH_TW;
        }
        if tag.starts_with("en") {
            return &EN;
        }
    }
    &EN
}

/// The language to offer switching to.
pub fn other(t: &Texts) -> &'static Texts {
    if t.code == EN.code {
        &ZH_TW
    } else {
        &EN
    }
}
